// Command golden prints Go's encoding/json.Marshal output for test inputs,
// one output line per input line, so that the Rust gojson module can be
// compared byte for byte with real Go.
//
// Input lines (all byte strings are hex encoded):
//
//	s <hex>                       json.Marshal(string)
//	f <8 hex digits>              json.Marshal(math.Float32frombits(bits))
//	v <bits>,<bits>,...           json.Marshal([]float32{...}) (non-nil, may be empty)
//	m <hexkey>:<hexval>,...       json.Marshal(map[string]string{...}) (later duplicates win)
//	i <decimal>                   json.Marshal(int64)
//
// A value Marshal refuses (NaN, ±Inf) prints ERR. A malformed input line
// aborts with exit status 2.
//
// Usage: go run golden.go < input > output
package main

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
)

func fail(lineNo int, line string, err error) {
	fmt.Fprintf(os.Stderr, "golden: line %d %q: %v\n", lineNo, line, err)
	os.Exit(2)
}

func parseBits(s string) (float32, error) {
	bits, err := strconv.ParseUint(s, 16, 32)
	if err != nil {
		return 0, err
	}
	return math.Float32frombits(uint32(bits)), nil
}

func value(line string) (interface{}, error) {
	if len(line) < 2 || line[1] != ' ' {
		return nil, fmt.Errorf("expected '<kind> <payload>'")
	}
	payload := line[2:]
	switch line[0] {
	case 's':
		b, err := hex.DecodeString(payload)
		if err != nil {
			return nil, err
		}
		return string(b), nil
	case 'f':
		return parseBits(payload)
	case 'v':
		v := make([]float32, 0)
		if payload != "" {
			for _, item := range strings.Split(payload, ",") {
				f, err := parseBits(item)
				if err != nil {
					return nil, err
				}
				v = append(v, f)
			}
		}
		return v, nil
	case 'm':
		m := make(map[string]string)
		if payload != "" {
			for _, item := range strings.Split(payload, ",") {
				kv := strings.SplitN(item, ":", 2)
				if len(kv) != 2 {
					return nil, fmt.Errorf("map entry %q has no ':'", item)
				}
				k, err := hex.DecodeString(kv[0])
				if err != nil {
					return nil, err
				}
				val, err := hex.DecodeString(kv[1])
				if err != nil {
					return nil, err
				}
				m[string(k)] = string(val)
			}
		}
		return m, nil
	case 'i':
		return strconv.ParseInt(payload, 10, 64)
	}
	return nil, fmt.Errorf("unknown kind %q", line[0])
}

func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<26)
	out := bufio.NewWriterSize(os.Stdout, 1<<16)
	lineNo := 0
	for in.Scan() {
		lineNo++
		line := in.Text()
		v, err := value(line)
		if err != nil {
			out.Flush()
			fail(lineNo, line, err)
		}
		b, err := json.Marshal(v)
		if err != nil {
			out.WriteString("ERR\n")
			continue
		}
		out.Write(b)
		out.WriteByte('\n')
	}
	if err := in.Err(); err != nil {
		out.Flush()
		fail(lineNo, "", err)
	}
	if err := out.Flush(); err != nil {
		fmt.Fprintln(os.Stderr, "golden:", err)
		os.Exit(1)
	}
}
