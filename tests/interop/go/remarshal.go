// Reads JSON Lines of go-embeddingsdb records, decodes each into the Go tool's Record struct
// and writes Go's json.Marshal of it, one per line. When oembeddings' output is exactly what
// Go writes, the output of this program equals its input byte for byte.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
)

// Record mirrors github.com/sfomuseum/go-embeddingsdb's Record (field order and JSON names).
type Record struct {
	Provider    string            `json:"provider"`
	DepictionId string            `json:"depiction_id"`
	SubjectId   string            `json:"subject_id"`
	Model       string            `json:"model"`
	Embeddings  []float32         `json:"embeddings"`
	Created     int64             `json:"created"`
	Attributes  map[string]string `json:"attributes"`
}

func main() {
	in := bufio.NewReaderSize(os.Stdin, 1<<20)
	out := bufio.NewWriterSize(os.Stdout, 1<<20)
	defer out.Flush()
	for n := 1; ; n++ {
		line, err := in.ReadBytes('\n')
		if len(line) > 0 {
			if line[len(line)-1] == '\n' {
				line = line[:len(line)-1]
			}
			var r Record
			if err := json.Unmarshal(line, &r); err != nil {
				fmt.Fprintf(os.Stderr, "line %d: %v\n", n, err)
				os.Exit(1)
			}
			b, err := json.Marshal(&r)
			if err != nil {
				fmt.Fprintf(os.Stderr, "line %d: %v\n", n, err)
				os.Exit(1)
			}
			out.Write(b)
			out.WriteByte('\n')
		}
		if err == io.EOF {
			return
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
}
