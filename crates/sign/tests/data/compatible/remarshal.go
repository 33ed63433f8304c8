// Reads JSON Lines of go-embeddingsdb records and writes, one per line, the bytes
// go-embeddingsdb signs for each: Go's json.Marshal of its Record struct.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
)

// Record mirrors github.com/sfomuseum/go-embeddingsdb's Record.
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
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<26)
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	for in.Scan() {
		var r Record
		if err := json.Unmarshal(in.Bytes(), &r); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		b, err := json.Marshal(&r)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		out.Write(b)
		out.WriteByte('\n')
	}
	if err := in.Err(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
