//! Recognising how a Parquet file lays out the record columns.
//!
//! The Go tool's layout is one of several that producers write: FixedSizeList vectors (Daft,
//! LanceDB, Hugging Face `datasets`, pyarrow with the `ARROW:schema` hint), LargeList,
//! float16 and float64 elements, attributes as a JSON object string or as a list of
//! key/value structs (polars), any column order, extra columns. [`Layout::detect`] names
//! the layout and finds each record column, or says exactly which column is wrong.

use std::fmt;

use arrow_schema::{DataType, Field, Schema};
use parquet::arrow::ArrowSchemaConverter;
use parquet::schema::types::SchemaDescriptor;
use serde::Serialize;

use crate::batch::{COLUMNS, canonical_schema};

/// How the vectors column stores its lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum VectorLayout {
    /// Variable-length list with 32-bit offsets (the Go layout).
    List,
    /// Variable-length list with 64-bit offsets.
    LargeList,
    /// Fixed-size list: every vector has `dimensions` elements.
    FixedSizeList {
        /// The fixed vector length.
        dimensions: usize,
    },
}

/// The numeric type of vector elements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum ElementType {
    /// IEEE half precision; widened to float32 exactly.
    Float16,
    /// IEEE single precision (the Go layout).
    Float32,
    /// IEEE double precision; narrowed to float32, and values that change are reported.
    Float64,
}

/// How the attributes column stores its string map.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum AttributesLayout {
    /// A Parquet MAP of strings (the Go layout).
    Map,
    /// A list of `{key, value}` structs (how polars stores a map).
    KeyValueList,
    /// A string holding a JSON object of strings.
    JsonString,
}

/// The arrangement of one file's record columns.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Layout {
    /// Index in the file's Arrow schema of each column of [`COLUMNS`], in that order.
    pub columns: [usize; 7],
    /// How vectors are stored.
    pub vectors: VectorLayout,
    /// Element type of the vectors.
    pub element: ElementType,
    /// How attributes are stored.
    pub attributes: AttributesLayout,
    /// Whether the footer holds an `ARROW:schema` key (the Go tool writes none).
    pub arrow_schema_hint: bool,
    /// Whether the columns appear in the Go tool's order (possibly after extra columns).
    pub conventional_order: bool,
    /// Columns that are not record columns, ignored when reading.
    pub extra_columns: Vec<String>,
    /// Whether the Parquet schema is exactly the Go tool's (names, types, required-ness).
    pub go_schema: bool,
}

/// The name of a recognised layout, as `inspect` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum LayoutKind {
    /// Exactly the Parquet schema written by `go-embeddingsdb`, no `ARROW:schema`, Go order.
    GoEmbeddingsdb,
    /// FixedSizeList float32 vectors with the `ARROW:schema` hint (`--vector-layout fixed`).
    FixedSizeList,
    /// Any other accepted arrangement; see the other fields of [`Layout`].
    Compatible,
}

impl fmt::Display for LayoutKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LayoutKind::GoEmbeddingsdb => "go-embeddingsdb",
            LayoutKind::FixedSizeList => "fixed-size-list",
            LayoutKind::Compatible => "compatible",
        })
    }
}

/// Why a schema is not a records schema: the column and the rule it breaks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LayoutError {
    /// A record column is absent.
    #[error("required column '{column}' is missing")]
    MissingColumn {
        /// The column.
        column: &'static str,
    },
    /// A record column has a type no layout allows.
    #[error("column '{column}' has type {found}; expected {expected}")]
    ColumnType {
        /// The column.
        column: &'static str,
        /// The Arrow type found.
        found: String,
        /// What the column may be.
        expected: &'static str,
    },
    /// A column name occurs twice at the top level.
    #[error("column '{column}' occurs more than once")]
    DuplicateColumn {
        /// The column.
        column: String,
    },
}

pub(crate) const STRING_TYPES: &str =
    "a string (utf8, large_utf8, utf8_view, binary or dictionary of these)";
const VECTOR_TYPES: &str = "a list, large list or fixed-size list of float16, float32 or float64";
const CREATED_TYPES: &str = "an integer (Unix seconds) or a timestamp";
const ATTRIBUTE_TYPES: &str =
    "a map of strings, a list of {key, value} string structs, or a JSON object string";

impl Layout {
    /// Recognises the layout of a file from its Arrow schema (as the Parquet reader decodes
    /// it, including any `ARROW:schema` hint) and its Parquet schema.
    pub fn detect(
        schema: &Schema,
        parquet: &SchemaDescriptor,
        arrow_schema_hint: bool,
    ) -> Result<Self, LayoutError> {
        let mut columns = [0usize; 7];
        for (slot, name) in columns.iter_mut().zip(COLUMNS) {
            let mut found = schema
                .fields()
                .iter()
                .enumerate()
                .filter(|(_, f)| f.name() == name);
            *slot = match (found.next(), found.next()) {
                (Some((i, _)), None) => i,
                (None, _) => return Err(LayoutError::MissingColumn { column: name }),
                (Some(_), Some(_)) => {
                    return Err(LayoutError::DuplicateColumn {
                        column: name.to_owned(),
                    });
                }
            };
        }
        let field = |i: usize| schema.field(columns[i]);
        for i in [0, 1, 2, 3] {
            if !is_string(field(i).data_type()) {
                return Err(type_error(COLUMNS[i], field(i), STRING_TYPES));
            }
        }
        let (vectors, element) = vector_type(field(4).data_type())
            .ok_or_else(|| type_error(COLUMNS[4], field(4), VECTOR_TYPES))?;
        if !is_created(field(5).data_type()) {
            return Err(type_error(COLUMNS[5], field(5), CREATED_TYPES));
        }
        let attributes = attributes_type(field(6).data_type())
            .ok_or_else(|| type_error(COLUMNS[6], field(6), ATTRIBUTE_TYPES))?;
        let extra_columns = schema
            .fields()
            .iter()
            .enumerate()
            .filter(|(i, _)| !columns.contains(i))
            .map(|(_, f)| f.name().clone())
            .collect();
        let conventional_order = columns.windows(2).all(|w| w[0] < w[1]);
        Ok(Self {
            columns,
            vectors,
            element,
            attributes,
            arrow_schema_hint,
            conventional_order,
            extra_columns,
            go_schema: is_go_parquet_schema(parquet),
        })
    }

    /// Recognises the layout of Arrow data that did not come from a Parquet file (an Arrow
    /// stream from pyarrow, polars or an engine's batch).
    pub fn from_arrow(schema: &Schema) -> Result<Self, LayoutError> {
        let parquet = SchemaDescriptor::new(std::sync::Arc::new(
            parquet::schema::types::Type::group_type_builder("schema")
                .build()
                .map_err(|_| LayoutError::MissingColumn { column: "provider" })?,
        ));
        Self::detect(schema, &parquet, false)
    }

    /// The name of this layout.
    pub fn kind(&self) -> LayoutKind {
        if self.go_schema && !self.arrow_schema_hint {
            LayoutKind::GoEmbeddingsdb
        } else if matches!(self.vectors, VectorLayout::FixedSizeList { .. })
            && self.element == ElementType::Float32
            && self.attributes == AttributesLayout::Map
            && self.arrow_schema_hint
        {
            LayoutKind::FixedSizeList
        } else {
            LayoutKind::Compatible
        }
    }
}

fn type_error(column: &'static str, field: &Field, expected: &'static str) -> LayoutError {
    LayoutError::ColumnType {
        column,
        found: field.data_type().to_string(),
        expected,
    }
}

/// String-like Arrow types the reader casts to `Utf8`.
pub(crate) fn is_string(t: &DataType) -> bool {
    match t {
        DataType::Utf8
        | DataType::LargeUtf8
        | DataType::Utf8View
        | DataType::Binary
        | DataType::LargeBinary
        | DataType::BinaryView => true,
        DataType::Dictionary(key, value) => key.is_dictionary_key_type() && is_string(value),
        _ => false,
    }
}

fn element_type(t: &DataType) -> Option<ElementType> {
    match t {
        DataType::Float16 => Some(ElementType::Float16),
        DataType::Float32 => Some(ElementType::Float32),
        DataType::Float64 => Some(ElementType::Float64),
        _ => None,
    }
}

fn vector_type(t: &DataType) -> Option<(VectorLayout, ElementType)> {
    match t {
        DataType::List(f) => Some((VectorLayout::List, element_type(f.data_type())?)),
        DataType::LargeList(f) => Some((VectorLayout::LargeList, element_type(f.data_type())?)),
        DataType::FixedSizeList(f, n) => Some((
            VectorLayout::FixedSizeList {
                dimensions: usize::try_from(*n).ok()?,
            },
            element_type(f.data_type())?,
        )),
        _ => None,
    }
}

fn is_created(t: &DataType) -> bool {
    t.is_integer() || matches!(t, DataType::Timestamp(_, _))
}

fn key_value_struct(t: &DataType) -> bool {
    match t {
        DataType::Struct(fields) => {
            fields.len() == 2
                && fields[0].name() == "key"
                && fields[1].name() == "value"
                && is_string(fields[0].data_type())
                && is_string(fields[1].data_type())
        }
        _ => false,
    }
}

fn attributes_type(t: &DataType) -> Option<AttributesLayout> {
    match t {
        DataType::Map(entries, _) => match entries.data_type() {
            DataType::Struct(fields)
                if fields.len() == 2
                    && is_string(fields[0].data_type())
                    && is_string(fields[1].data_type()) =>
            {
                Some(AttributesLayout::Map)
            }
            _ => None,
        },
        DataType::List(f) | DataType::LargeList(f) if key_value_struct(f.data_type()) => {
            Some(AttributesLayout::KeyValueList)
        }
        t if is_string(t) => Some(AttributesLayout::JsonString),
        _ => None,
    }
}

/// Whether a Parquet schema is exactly the one go-embeddingsdb writes (names, physical and
/// logical types, repetition), which is also the one this crate writes by default.
pub fn is_go_parquet_schema(parquet: &SchemaDescriptor) -> bool {
    let Ok(go) = ArrowSchemaConverter::new().convert(&canonical_schema()) else {
        return false;
    };
    let fields = |d: &SchemaDescriptor| d.root_schema().get_fields().to_vec();
    fields(parquet) == fields(&go)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn go_schema() -> Schema {
        canonical_schema().as_ref().clone()
    }

    fn descriptor(schema: &Schema) -> SchemaDescriptor {
        ArrowSchemaConverter::new().convert(schema).unwrap()
    }

    #[test]
    fn the_canonical_schema_is_the_go_layout() {
        let schema = go_schema();
        let layout = Layout::detect(&schema, &descriptor(&schema), false).unwrap();
        assert_eq!(layout.kind(), LayoutKind::GoEmbeddingsdb);
        assert_eq!(layout.columns, [0, 1, 2, 3, 4, 5, 6]);
        assert!(layout.conventional_order && layout.extra_columns.is_empty());
    }

    #[test]
    fn other_layouts_are_recognised_in_any_order() {
        let schema = Schema::new(vec![
            Field::new("note", DataType::Utf8, true),
            Field::new("attributes", DataType::Utf8, true),
            Field::new(
                "embeddings",
                DataType::FixedSizeList(Arc::new(Field::new("item", DataType::Float64, true)), 3),
                true,
            ),
            Field::new("created", DataType::Int32, true),
            Field::new("model", DataType::LargeUtf8, true),
            Field::new(
                "provider",
                DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8)),
                true,
            ),
            Field::new("subject_id", DataType::Utf8View, true),
            Field::new("depiction_id", DataType::Binary, true),
        ]);
        let layout = Layout::detect(&schema, &descriptor(&schema), true).unwrap();
        assert_eq!(layout.columns, [5, 7, 6, 4, 2, 3, 1]);
        assert_eq!(
            layout.vectors,
            VectorLayout::FixedSizeList { dimensions: 3 }
        );
        assert_eq!(layout.element, ElementType::Float64);
        assert_eq!(layout.attributes, AttributesLayout::JsonString);
        assert_eq!(layout.extra_columns, vec!["note".to_owned()]);
        assert_eq!(layout.kind(), LayoutKind::Compatible);
        assert!(!layout.conventional_order);
    }

    #[test]
    fn wrong_and_missing_columns_are_named() {
        let mut fields: Vec<Field> = go_schema()
            .fields()
            .iter()
            .map(|f| f.as_ref().clone())
            .collect();
        fields[4] = Field::new("embeddings", DataType::Utf8, false);
        let schema = Schema::new(fields.clone());
        let err = Layout::detect(&schema, &descriptor(&schema), false).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("column 'embeddings' has type Utf8; expected {VECTOR_TYPES}")
        );
        fields.remove(5);
        let schema = Schema::new(fields);
        let err = Layout::detect(&schema, &descriptor(&schema), false).unwrap_err();
        assert_eq!(err, LayoutError::MissingColumn { column: "created" });
    }
}
