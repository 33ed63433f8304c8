//! A strict reader of one pickle shape: `(str, numpy 1-d float array)`, never executed.
//!
//! SkyPilot's parts hold, per row, `pickle.dumps((image_path, vector))`. Unpickling a
//! downloaded file with Python runs whatever callables it names, so this module walks the
//! opcodes itself and understands only what `pickle.dumps` (protocols 2 to 5) writes for such
//! a tuple with numpy 1.x or 2.x: strings, bytes, small integers, tuples, the memo, and the
//! globals numpy names to rebuild an array — `numpy.core.multiarray._reconstruct` (1.x) or
//! `numpy._core.multiarray._reconstruct` (2.x) with `numpy.ndarray` and `numpy.dtype` for
//! protocols 2 to 4, `numpy.core.numeric._frombuffer` or `numpy._core.numeric._frombuffer`
//! for protocol 5, and `_codecs.encode` (how protocol 2 spells bytes). Nothing is called:
//! a global is only a name compared against that list, and "reducing" one builds a plain
//! value. Any other opcode or global is refused by name, with its byte offset.
//!
//! No crate fits: `serde-pickle` turns every unknown global into the same opaque stand-in
//! (so neither a list of allowed globals nor the name of a refused one can be had from it)
//! and exposes no opcode stream; `repugnant-pickle` is an unmaintained 0.0.1 "best effort"
//! scraper. The subset here is small enough to check against `pickletools.dis` output of
//! real pickles (see the tests, made with numpy 1.26 and 2.4).

use std::rc::Rc;

/// Why a pickle is not a `(str, vector)` pair this reader accepts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PickleError {
    /// The bytes end inside an opcode or before `STOP`.
    #[error("truncated: {opcode} at byte {at} needs more bytes than the pickle has")]
    Truncated {
        /// The opcode being read (`STOP` when the bytes ended between opcodes).
        opcode: &'static str,
        /// Its offset.
        at: usize,
    },
    /// An opcode outside the accepted subset.
    #[error(
        "opcode {name} (0x{byte:02x}) at byte {at} is not allowed (only the opcodes \
         pickle.dumps writes for a tuple of a str and a numpy array are)"
    )]
    Opcode {
        /// The opcode's name as `pickletools` gives it (`UNKNOWN` if it is none).
        name: &'static str,
        /// The opcode byte.
        byte: u8,
        /// Its offset.
        at: usize,
    },
    /// A global other than numpy's array reconstruction.
    #[error(
        "global {module}.{name} at byte {at} is not allowed (only numpy's array \
         reconstruction may be named; nothing was run)"
    )]
    Global {
        /// The module named.
        module: String,
        /// The attribute named.
        name: String,
        /// Offset of the opcode naming it.
        at: usize,
    },
    /// A protocol this reader does not accept.
    #[error("pickle protocol {0} is not accepted (2 to 5 are)")]
    Protocol(u8),
    /// An opcode met operands it cannot take.
    #[error("{opcode} at byte {at}: expected {expected}")]
    Malformed {
        /// The opcode.
        opcode: &'static str,
        /// Its offset.
        at: usize,
        /// What it needed.
        expected: &'static str,
    },
    /// The array is not one-dimensional.
    #[error("the array has {0} dimensions; a vector has 1")]
    Dimensions(usize),
    /// The array's element type is not a float.
    #[error("the array's dtype is {0}; a vector is float16, float32 or float64")]
    Dtype(String),
    /// The array's data does not hold its shape's worth of elements.
    #[error("the array's data holds {bytes} bytes, not {elements} elements of {size} bytes")]
    DataLength {
        /// Bytes of data.
        bytes: usize,
        /// Elements the shape says.
        elements: usize,
        /// Bytes per element.
        size: usize,
    },
    /// The pickled value is not a tuple of a str and an array.
    #[error("the pickle holds {0}, not a tuple of a str (the image path) and a numpy array")]
    NotAPair(&'static str),
    /// Bytes follow `STOP`.
    #[error("{0} bytes follow STOP")]
    Trailing(usize),
}

/// A decoded `(path, vector)` pair.
#[derive(Debug, Clone, PartialEq)]
pub struct Pair {
    /// The first element: SkyPilot's image path (or, in later versions, the image as base64).
    pub path: String,
    /// The vector's element type.
    pub element: Element,
    /// The vector's elements, widened or narrowed to float32.
    pub vector: Vec<f32>,
    /// float64 elements whose float32 value differs.
    pub narrowed: u64,
}

/// The element type of a pickled vector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Element {
    /// numpy `float16` (`f2`): widened exactly.
    Float16,
    /// numpy `float32` (`f4`).
    Float32,
    /// numpy `float64` (`f8`): narrowed to the nearest float32.
    Float64,
}

impl Element {
    fn size(self) -> usize {
        match self {
            Element::Float16 => 2,
            Element::Float32 => 4,
            Element::Float64 => 8,
        }
    }
}

/// The callables numpy names; never called, only recognised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Callable {
    Reconstruct,
    Ndarray,
    Dtype,
    FromBuffer,
    Encode,
}

/// The globals accepted: `(module, name)` as numpy 1.x and 2.x and CPython write them.
const GLOBALS: [(&str, &str, Callable); 7] = [
    (
        "numpy.core.multiarray",
        "_reconstruct",
        Callable::Reconstruct,
    ),
    (
        "numpy._core.multiarray",
        "_reconstruct",
        Callable::Reconstruct,
    ),
    ("numpy", "ndarray", Callable::Ndarray),
    ("numpy", "dtype", Callable::Dtype),
    ("numpy.core.numeric", "_frombuffer", Callable::FromBuffer),
    ("numpy._core.numeric", "_frombuffer", Callable::FromBuffer),
    ("_codecs", "encode", Callable::Encode),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Dtype {
    element: Element,
    big_endian: bool,
}

#[derive(Debug, Clone)]
enum Value {
    Mark,
    None,
    Bool,
    Int(i64),
    Str(Rc<str>),
    Bytes(Rc<[u8]>),
    Tuple(Rc<[Value]>),
    Global(Callable),
    /// `dtype(code, False, True)`, before its state is set.
    DtypeStub(Element),
    Dtype(Dtype),
    /// `_reconstruct(ndarray, (0,), b'b')`, before its state is set.
    ArrayStub,
    Array {
        dtype: Dtype,
        data: Rc<[u8]>,
    },
}

impl Value {
    fn kind(&self) -> &'static str {
        match self {
            Value::Mark => "a mark",
            Value::None => "None",
            Value::Bool => "a bool",
            Value::Int(_) => "an int",
            Value::Str(_) => "a str",
            Value::Bytes(_) => "bytes",
            Value::Tuple(_) => "a tuple",
            Value::Global(_) => "a global",
            Value::DtypeStub(_) | Value::Dtype(_) => "a dtype",
            Value::ArrayStub | Value::Array { .. } => "an array",
        }
    }
}

/// Stack and memo sizes far above what a pair needs; a bound against hostile input.
const MAX_STACK: usize = 256;
const MAX_MEMO: usize = 256;
/// Tuples a pickle may build: a pair and its array's arguments take about ten. Each tuple can
/// nest the one before, so this also bounds the depth of what is built (and dropped,
/// recursively: 26,000 nested tuples overflowed the stack).
const MAX_TUPLES: usize = 64;

/// Decodes one pickle of a `(str, vector)` pair, or says which rule it breaks.
pub fn decode(bytes: &[u8]) -> Result<Pair, PickleError> {
    Machine {
        bytes,
        pos: 0,
        stack: Vec::new(),
        memo: Vec::new(),
        tuples: 0,
    }
    .run()
}

struct Machine<'a> {
    bytes: &'a [u8],
    pos: usize,
    stack: Vec<Value>,
    memo: Vec<Option<Value>>,
    tuples: usize,
}

impl<'a> Machine<'a> {
    fn take(&mut self, n: usize, opcode: &'static str, at: usize) -> Result<&'a [u8], PickleError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&end| end <= self.bytes.len())
            .ok_or(PickleError::Truncated { opcode, at })?;
        let out = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(out)
    }

    fn uint(&mut self, n: usize, opcode: &'static str, at: usize) -> Result<u64, PickleError> {
        let raw = self.take(n, opcode, at)?;
        let mut value = [0u8; 8];
        value[..n].copy_from_slice(raw);
        Ok(u64::from_le_bytes(value))
    }

    fn length(&mut self, n: usize, opcode: &'static str, at: usize) -> Result<usize, PickleError> {
        let n = self.uint(n, opcode, at)?;
        usize::try_from(n).map_err(|_| PickleError::Truncated { opcode, at })
    }

    fn line(&mut self, opcode: &'static str, at: usize) -> Result<&'a str, PickleError> {
        let rest = &self.bytes[self.pos..];
        let end = rest
            .iter()
            .position(|&b| b == b'\n')
            .ok_or(PickleError::Truncated { opcode, at })?;
        self.pos += end + 1;
        std::str::from_utf8(&rest[..end]).map_err(|_| PickleError::Malformed {
            opcode,
            at,
            expected: "an ASCII module or attribute name",
        })
    }

    fn push(&mut self, value: Value, opcode: &'static str, at: usize) -> Result<(), PickleError> {
        if self.stack.len() >= MAX_STACK {
            return Err(PickleError::Malformed {
                opcode,
                at,
                expected: "a stack of at most 256 items",
            });
        }
        self.stack.push(value);
        Ok(())
    }

    fn pop(&mut self, opcode: &'static str, at: usize) -> Result<Value, PickleError> {
        match self.stack.pop() {
            Some(Value::Mark) | None => Err(PickleError::Malformed {
                opcode,
                at,
                expected: "an operand on the stack",
            }),
            Some(value) => Ok(value),
        }
    }

    /// The items above the topmost mark, which is removed.
    fn pop_mark(&mut self, opcode: &'static str, at: usize) -> Result<Vec<Value>, PickleError> {
        let mark = self
            .stack
            .iter()
            .rposition(|v| matches!(v, Value::Mark))
            .ok_or(PickleError::Malformed {
                opcode,
                at,
                expected: "a MARK before it",
            })?;
        let items = self.stack.split_off(mark + 1);
        self.stack.pop();
        Ok(items)
    }

    fn memo_put(
        &mut self,
        index: usize,
        opcode: &'static str,
        at: usize,
    ) -> Result<(), PickleError> {
        let top = match self.stack.last() {
            Some(Value::Mark) | None => {
                return Err(PickleError::Malformed {
                    opcode,
                    at,
                    expected: "a value to remember",
                });
            }
            Some(top) => top.clone(),
        };
        if index >= MAX_MEMO {
            return Err(PickleError::Malformed {
                opcode,
                at,
                expected: "a memo index below 256",
            });
        }
        if self.memo.len() <= index {
            self.memo.resize(index + 1, None);
        }
        self.memo[index] = Some(top);
        Ok(())
    }

    fn memo_get(
        &mut self,
        index: usize,
        opcode: &'static str,
        at: usize,
    ) -> Result<(), PickleError> {
        let value = self
            .memo
            .get(index)
            .and_then(Option::clone)
            .ok_or(PickleError::Malformed {
                opcode,
                at,
                expected: "a memo index that was set",
            })?;
        self.push(value, opcode, at)
    }

    fn global(&self, module: &str, name: &str, at: usize) -> Result<Value, PickleError> {
        GLOBALS
            .iter()
            .find(|(m, n, _)| *m == module && *n == name)
            .map(|(_, _, callable)| Value::Global(*callable))
            .ok_or_else(|| PickleError::Global {
                module: module.to_owned(),
                name: name.to_owned(),
                at,
            })
    }

    /// Counts a tuple built by `opcode` against [`MAX_TUPLES`].
    fn count_tuple(&mut self, opcode: &'static str, at: usize) -> Result<(), PickleError> {
        self.tuples += 1;
        if self.tuples > MAX_TUPLES {
            return Err(PickleError::Malformed {
                opcode,
                at,
                expected: "at most 64 tuples (a path and an array need about ten)",
            });
        }
        Ok(())
    }

    fn tuple(&mut self, n: usize, opcode: &'static str, at: usize) -> Result<(), PickleError> {
        self.count_tuple(opcode, at)?;
        if self.stack.len() < n
            || self.stack[self.stack.len() - n..]
                .iter()
                .any(|v| matches!(v, Value::Mark))
        {
            return Err(PickleError::Malformed {
                opcode,
                at,
                expected: "enough operands on the stack",
            });
        }
        let items = self.stack.split_off(self.stack.len() - n);
        self.push(Value::Tuple(items.into()), opcode, at)
    }

    fn run(mut self) -> Result<Pair, PickleError> {
        loop {
            let at = self.pos;
            let Some(&byte) = self.bytes.get(at) else {
                return Err(PickleError::Truncated { opcode: "STOP", at });
            };
            self.pos += 1;
            let name = opcode_name(byte);
            match byte {
                0x80 => {
                    let protocol = self.uint(1, name, at)? as u8;
                    if !(2..=5).contains(&protocol) {
                        return Err(PickleError::Protocol(protocol));
                    }
                }
                // FRAME: a length hint for buffered readers; the bytes follow as usual.
                0x95 => {
                    self.take(8, name, at)?;
                }
                b'.' => return self.stop(at),
                b'(' => self.push(Value::Mark, name, at)?,
                0x94 => {
                    let index = self.memo.len();
                    self.memo_put(index, name, at)?;
                }
                b'q' => {
                    let index = self.length(1, name, at)?;
                    self.memo_put(index, name, at)?;
                }
                b'r' => {
                    let index = self.length(4, name, at)?;
                    self.memo_put(index, name, at)?;
                }
                b'h' => {
                    let index = self.length(1, name, at)?;
                    self.memo_get(index, name, at)?;
                }
                b'j' => {
                    let index = self.length(4, name, at)?;
                    self.memo_get(index, name, at)?;
                }
                b'c' => {
                    let module = self.line(name, at)?;
                    let attribute = self.line(name, at)?;
                    let value = self.global(module, attribute, at)?;
                    self.push(value, name, at)?;
                }
                0x93 => {
                    let attribute = self.pop(name, at)?;
                    let module = self.pop(name, at)?;
                    let (Value::Str(module), Value::Str(attribute)) = (module, attribute) else {
                        return Err(PickleError::Malformed {
                            opcode: name,
                            at,
                            expected: "a module and an attribute name (str)",
                        });
                    };
                    let value = self.global(&module, &attribute, at)?;
                    self.push(value, name, at)?;
                }
                b'X' | 0x8c | 0x8d => {
                    let width = match byte {
                        b'X' => 4,
                        0x8c => 1,
                        _ => 8,
                    };
                    let n = self.length(width, name, at)?;
                    let raw = self.take(n, name, at)?;
                    let text = std::str::from_utf8(raw).map_err(|_| PickleError::Malformed {
                        opcode: name,
                        at,
                        expected: "UTF-8 text",
                    })?;
                    self.push(Value::Str(text.into()), name, at)?;
                }
                b'C' | b'B' | 0x8e | 0x96 => {
                    let width = match byte {
                        b'C' => 1,
                        b'B' => 4,
                        _ => 8,
                    };
                    let n = self.length(width, name, at)?;
                    let raw = self.take(n, name, at)?;
                    self.push(Value::Bytes(raw.into()), name, at)?;
                }
                b'J' => {
                    let raw = self.take(4, name, at)?;
                    let value = i32::from_le_bytes([raw[0], raw[1], raw[2], raw[3]]);
                    self.push(Value::Int(i64::from(value)), name, at)?;
                }
                b'K' => {
                    let value = self.uint(1, name, at)?;
                    self.push(Value::Int(value as i64), name, at)?;
                }
                b'M' => {
                    let value = self.uint(2, name, at)?;
                    self.push(Value::Int(value as i64), name, at)?;
                }
                0x8a => {
                    let n = self.length(1, name, at)?;
                    if n > 8 {
                        return Err(PickleError::Malformed {
                            opcode: name,
                            at,
                            expected: "an integer of at most 8 bytes",
                        });
                    }
                    let raw = self.take(n, name, at)?;
                    // Two's complement, little-endian: sign-extend from the last byte.
                    let fill = if raw.last().is_some_and(|b| b & 0x80 != 0) {
                        0xff
                    } else {
                        0
                    };
                    let mut value = [fill; 8];
                    value[..n].copy_from_slice(raw);
                    self.push(Value::Int(i64::from_le_bytes(value)), name, at)?;
                }
                b'N' => self.push(Value::None, name, at)?,
                0x88 | 0x89 => self.push(Value::Bool, name, at)?,
                b')' => {
                    self.count_tuple(name, at)?;
                    self.push(Value::Tuple(Rc::from(Vec::new())), name, at)?;
                }
                0x85 => self.tuple(1, name, at)?,
                0x86 => self.tuple(2, name, at)?,
                0x87 => self.tuple(3, name, at)?,
                b't' => {
                    self.count_tuple(name, at)?;
                    let items = self.pop_mark(name, at)?;
                    self.push(Value::Tuple(items.into()), name, at)?;
                }
                b'R' => {
                    let arguments = self.pop(name, at)?;
                    let callable = self.pop(name, at)?;
                    let (Value::Global(callable), Value::Tuple(arguments)) = (callable, arguments)
                    else {
                        return Err(PickleError::Malformed {
                            opcode: name,
                            at,
                            expected: "a global and a tuple of arguments",
                        });
                    };
                    let value = reduce(callable, &arguments, at)?;
                    self.push(value, name, at)?;
                }
                b'b' => {
                    let state = self.pop(name, at)?;
                    let object = self.pop(name, at)?;
                    let value = build(object, &state, at)?;
                    self.push(value, name, at)?;
                }
                _ => {
                    return Err(PickleError::Opcode { name, byte, at });
                }
            }
        }
    }

    fn stop(mut self, at: usize) -> Result<Pair, PickleError> {
        let value = self.pop("STOP", at)?;
        if !self.stack.is_empty() {
            return Err(PickleError::Malformed {
                opcode: "STOP",
                at,
                expected: "exactly one value on the stack",
            });
        }
        if self.pos < self.bytes.len() {
            return Err(PickleError::Trailing(self.bytes.len() - self.pos));
        }
        let Value::Tuple(items) = value else {
            return Err(PickleError::NotAPair(value.kind()));
        };
        let [Value::Str(path), Value::Array { dtype, data }] = &items[..] else {
            return Err(PickleError::NotAPair(match items.len() {
                2 => "a tuple of other types",
                _ => "a tuple of another length",
            }));
        };
        let (vector, narrowed) = widen(*dtype, data);
        Ok(Pair {
            path: path.to_string(),
            element: dtype.element,
            vector,
            narrowed,
        })
    }
}

/// The value a recognised callable would return, built without calling anything.
fn reduce(callable: Callable, arguments: &[Value], at: usize) -> Result<Value, PickleError> {
    let malformed = |expected| PickleError::Malformed {
        opcode: "REDUCE",
        at,
        expected,
    };
    match (callable, arguments) {
        // _reconstruct(ndarray, (0,), b'b'): an empty array whose state BUILD sets.
        (Callable::Reconstruct, [Value::Global(Callable::Ndarray), Value::Tuple(_), _]) => {
            Ok(Value::ArrayStub)
        }
        (Callable::Reconstruct, _) => {
            Err(malformed("_reconstruct(numpy.ndarray, shape, dtype code)"))
        }
        (Callable::Dtype, [Value::Str(code), ..]) => match &**code {
            "f2" => Ok(Value::DtypeStub(Element::Float16)),
            "f4" => Ok(Value::DtypeStub(Element::Float32)),
            "f8" => Ok(Value::DtypeStub(Element::Float64)),
            other => Err(PickleError::Dtype(other.to_owned())),
        },
        (Callable::Dtype, _) => Err(malformed("dtype(code, ...)")),
        // Protocol 2 spells bytes as _codecs.encode(text, 'latin1').
        (Callable::Encode, [Value::Str(text), Value::Str(encoding)]) if &**encoding == "latin1" => {
            let bytes = text
                .chars()
                .map(|c| u8::try_from(u32::from(c)).map_err(|_| malformed("latin-1 text")))
                .collect::<Result<Vec<u8>, _>>()?;
            Ok(Value::Bytes(bytes.into()))
        }
        (Callable::Encode, _) => Err(malformed("_codecs.encode(text, 'latin1')")),
        // _frombuffer(buffer, dtype, shape, order): protocol 5's in-band array.
        (
            Callable::FromBuffer,
            [
                Value::Bytes(data),
                Value::Dtype(dtype),
                Value::Tuple(shape),
                Value::Str(_),
            ],
        ) => array(*dtype, shape, data.clone()),
        (Callable::FromBuffer, _) => Err(malformed("_frombuffer(buffer, dtype, shape, order)")),
        (Callable::Ndarray, _) => Err(malformed("a callable other than numpy.ndarray")),
    }
}

/// An object with its state set, as `__setstate__` would.
fn build(object: Value, state: &Value, at: usize) -> Result<Value, PickleError> {
    let malformed = |expected| PickleError::Malformed {
        opcode: "BUILD",
        at,
        expected,
    };
    let Value::Tuple(state) = state else {
        return Err(malformed("a state tuple"));
    };
    match object {
        // (version, byteorder, subarray, names, fields, elsize, alignment, flags[, metadata])
        Value::DtypeStub(element) => match &state[..] {
            [
                _,
                Value::Str(order),
                Value::None,
                Value::None,
                Value::None,
                _,
                _,
                _,
                rest @ ..,
            ] if rest.len() <= 1 => {
                let big_endian = match &**order {
                    "<" | "=" => false,
                    ">" => true,
                    _ => return Err(malformed("a byte order of '<', '>' or '='")),
                };
                Ok(Value::Dtype(Dtype {
                    element,
                    big_endian,
                }))
            }
            _ => Err(malformed(
                "a plain float dtype's state (no fields, no subarray)",
            )),
        },
        // (version, shape, dtype, is_fortran, data)
        Value::ArrayStub => match &state[..] {
            [
                Value::Int(_),
                Value::Tuple(shape),
                Value::Dtype(dtype),
                Value::Bool,
                Value::Bytes(data),
            ] => array(*dtype, shape, data.clone()),
            [_, _, _, _, Value::Bytes(_)] => {
                Err(malformed("(version, shape, dtype, fortran, data)"))
            }
            _ => Err(malformed("an array state with its data as bytes")),
        },
        _ => Err(malformed("a dtype or an array to set the state of")),
    }
}

fn array(dtype: Dtype, shape: &[Value], data: Rc<[u8]>) -> Result<Value, PickleError> {
    let [Value::Int(n)] = shape else {
        return Err(PickleError::Dimensions(shape.len()));
    };
    let elements = usize::try_from(*n).map_err(|_| PickleError::Dimensions(1))?;
    let size = dtype.element.size();
    if elements.checked_mul(size) != Some(data.len()) {
        return Err(PickleError::DataLength {
            bytes: data.len(),
            elements,
            size,
        });
    }
    Ok(Value::Array { dtype, data })
}

/// The elements as float32, and how many float64 elements changed on the way.
fn widen(dtype: Dtype, data: &[u8]) -> (Vec<f32>, u64) {
    let size = dtype.element.size();
    let mut out = Vec::with_capacity(data.len() / size);
    let mut narrowed = 0u64;
    for raw in data.chunks_exact(size) {
        let value = match (dtype.element, dtype.big_endian) {
            (Element::Float16, false) => half::f16::from_le_bytes([raw[0], raw[1]]).to_f32(),
            (Element::Float16, true) => half::f16::from_be_bytes([raw[0], raw[1]]).to_f32(),
            (Element::Float32, big) => {
                let bytes = [raw[0], raw[1], raw[2], raw[3]];
                if big {
                    f32::from_be_bytes(bytes)
                } else {
                    f32::from_le_bytes(bytes)
                }
            }
            (Element::Float64, big) => {
                let mut bytes = [0u8; 8];
                bytes.copy_from_slice(raw);
                let wide = if big {
                    f64::from_be_bytes(bytes)
                } else {
                    f64::from_le_bytes(bytes)
                };
                let value = wide as f32;
                if f64::from(value) != wide && !wide.is_nan() {
                    narrowed += 1;
                }
                value
            }
        };
        out.push(value);
    }
    (out, narrowed)
}

/// The name `pickletools` gives an opcode.
fn opcode_name(byte: u8) -> &'static str {
    match byte {
        b'(' => "MARK",
        b'.' => "STOP",
        b'0' => "POP",
        b'1' => "POP_MARK",
        b'2' => "DUP",
        b'F' => "FLOAT",
        b'I' => "INT",
        b'J' => "BININT",
        b'K' => "BININT1",
        b'L' => "LONG",
        b'M' => "BININT2",
        b'N' => "NONE",
        b'P' => "PERSID",
        b'Q' => "BINPERSID",
        b'R' => "REDUCE",
        b'S' => "STRING",
        b'T' => "BINSTRING",
        b'U' => "SHORT_BINSTRING",
        b'V' => "UNICODE",
        b'X' => "BINUNICODE",
        b'a' => "APPEND",
        b'b' => "BUILD",
        b'c' => "GLOBAL",
        b'd' => "DICT",
        b'}' => "EMPTY_DICT",
        b'e' => "APPENDS",
        b'g' => "GET",
        b'h' => "BINGET",
        b'i' => "INST",
        b'j' => "LONG_BINGET",
        b'l' => "LIST",
        b']' => "EMPTY_LIST",
        b'o' => "OBJ",
        b'p' => "PUT",
        b'q' => "BINPUT",
        b'r' => "LONG_BINPUT",
        b's' => "SETITEM",
        b't' => "TUPLE",
        b')' => "EMPTY_TUPLE",
        b'u' => "SETITEMS",
        b'G' => "BINFLOAT",
        b'B' => "BINBYTES",
        b'C' => "SHORT_BINBYTES",
        0x80 => "PROTO",
        0x81 => "NEWOBJ",
        0x82 => "EXT1",
        0x83 => "EXT2",
        0x84 => "EXT4",
        0x85 => "TUPLE1",
        0x86 => "TUPLE2",
        0x87 => "TUPLE3",
        0x88 => "NEWTRUE",
        0x89 => "NEWFALSE",
        0x8a => "LONG1",
        0x8b => "LONG4",
        0x8c => "SHORT_BINUNICODE",
        0x8d => "BINUNICODE8",
        0x8e => "BINBYTES8",
        0x8f => "EMPTY_SET",
        0x90 => "ADDITEMS",
        0x91 => "FROZENSET",
        0x92 => "NEWOBJ_EX",
        0x93 => "STACK_GLOBAL",
        0x94 => "MEMOIZE",
        0x95 => "FRAME",
        0x96 => "BYTEARRAY8",
        0x97 => "NEXT_BUFFER",
        0x98 => "READONLY_BUFFER",
        _ => "UNKNOWN",
    }
}
