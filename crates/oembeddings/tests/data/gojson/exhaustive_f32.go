// Command exhaustive_f32 hashes Go's json.Marshal output for every float32
// bit pattern, to be compared with `cargo run --release --example
// exhaustive_f32` (see tests/data/gojson/exhaustive_f32.sh).
//
// The 2^32 patterns are split into 256 chunks of 2^24 consecutive patterns;
// for each chunk it prints "<chunk as 2 hex digits> <FNV-1a 64 hash>", the
// hash taken over each value's output (ERR if Marshal fails) followed by a
// newline.
package main

import (
	"encoding/json"
	"fmt"
	"math"
	"runtime"
	"sync"
)

const (
	fnvOffset = 0xcbf29ce484222325
	fnvPrime  = 0x100000001b3
)

func hashChunk(chunk uint32) uint64 {
	h := uint64(fnvOffset)
	add := func(b []byte) {
		for _, c := range b {
			h ^= uint64(c)
			h *= fnvPrime
		}
	}
	for low := uint32(0); low < 1<<24; low++ {
		f := math.Float32frombits(chunk<<24 | low)
		b, err := json.Marshal(f)
		if err != nil {
			b = []byte("ERR")
		}
		add(b)
		add([]byte{'\n'})
	}
	return h
}

func main() {
	var hashes [256]uint64
	next := make(chan uint32)
	var wg sync.WaitGroup
	for w := 0; w < runtime.NumCPU(); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range next {
				hashes[c] = hashChunk(c)
			}
		}()
	}
	for c := uint32(0); c < 256; c++ {
		next <- c
	}
	close(next)
	wg.Wait()
	for c, h := range hashes {
		fmt.Printf("%02x %016x\n", c, h)
	}
}
