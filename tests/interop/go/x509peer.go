// A peer for go-embeddingsdb's X.509 record signatures (its tls:// and acm:// signers), written
// from reading that tool's signatures/signer_x509.go, verifier_x509.go and tls/tls.go, with the
// standard library only. It works on JSON Lines; the tests move rows in and out of Parquet.
//
//	x509peer sign -certificate CERT.pem -key KEY.pem [-raw] [-earlier]  < records.jsonl
//	x509peer verify -certificate CERT.pem                              < signed.jsonl
//
// sign reads records (go-embeddingsdb's Record as JSON), and for each writes
// {"provider","depiction_id","model","record_hash","record_signature"} where the signed bytes
// are Go's json.Marshal of the record, record_hash their hex SHA-256 and record_signature a
// PEM SIGNATURE block (or, with -raw, base64 of the raw signature in "raw_signature", as the
// tool's first X.509 signer stored raw bytes). -earlier signs as the tool's earlier signer
// did, by our reading of its parquet/iter.go and parquet-go v0.29.0: records pass through 100
// reused structs whose attribute maps keep earlier keys (a record without attributes gets a
// fresh map), and the last batch, which parquet-go returns with io.EOF, is not signed.
//
// verify reads {"record": {...}, "record_signature": "..."} (or "raw_signature": base64) and
// writes one line per input: "valid", or "invalid: reason"; the key of the certificate is
// trusted as it is, exactly as the Go verifier trusts it.
package main

import (
	"bufio"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
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

type signed struct {
	Provider        string `json:"provider"`
	DepictionId     string `json:"depiction_id"`
	Model           string `json:"model"`
	RecordHash      string `json:"record_hash"`
	RecordSignature string `json:"record_signature,omitempty"`
	RawSignature    string `json:"raw_signature,omitempty"`
}

type toVerify struct {
	Record          Record `json:"record"`
	RecordSignature string `json:"record_signature"`
	RawSignature    string `json:"raw_signature"`
}

// The first PEM block must be a CERTIFICATE, as the tool's LoadCertFromPEM requires.
func loadCertificate(path string) (*x509.Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, errors.New("failed to decode PEM certificate")
	}
	return x509.ParseCertificate(block.Bytes)
}

// PKCS#8, then PKCS#1, then SEC1, whatever the block's type: the tool's LoadKeyFromPEM order.
func loadKey(path string) (crypto.PrivateKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("failed to decode PEM key")
	}
	if k, err := x509.ParsePKCS8PrivateKey(block.Bytes); err == nil {
		return k, nil
	}
	if k, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		return k, nil
	}
	return x509.ParseECPrivateKey(block.Bytes)
}

// RSA PKCS#1 v1.5 and ECDSA ASN.1 over SHA-256(data); Ed25519 over data.
func sign(key crypto.PrivateKey, data []byte) ([]byte, error) {
	digest := sha256.Sum256(data)
	switch k := key.(type) {
	case *rsa.PrivateKey:
		return rsa.SignPKCS1v15(rand.Reader, k, crypto.SHA256, digest[:])
	case *ecdsa.PrivateKey:
		return ecdsa.SignASN1(rand.Reader, k, digest[:])
	case ed25519.PrivateKey:
		return ed25519.Sign(k, data), nil
	}
	return nil, errors.New("unsupported private key type")
}

// A PEM SIGNATURE block is unwrapped; anything that is not PEM is the raw signature.
func decodeSignature(value []byte) ([]byte, error) {
	block, _ := pem.Decode(value)
	if block == nil {
		return value, nil
	}
	if block.Type != "SIGNATURE" {
		return nil, fmt.Errorf("invalid block type %s", block.Type)
	}
	return block.Bytes, nil
}

func verify(cert *x509.Certificate, data, value []byte) error {
	sig, err := decodeSignature(value)
	if err != nil {
		return err
	}
	digest := sha256.Sum256(data)
	switch pub := cert.PublicKey.(type) {
	case *rsa.PublicKey:
		return rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig)
	case *ecdsa.PublicKey:
		if !ecdsa.VerifyASN1(pub, digest[:], sig) {
			return errors.New("signature did not validate")
		}
		return nil
	case ed25519.PublicKey:
		if !ed25519.Verify(pub, data, sig) {
			return errors.New("ed25519 signature verification failed")
		}
		return nil
	}
	return errors.New("unsupported public key type in certificate")
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "x509peer: "+format+"\n", args...)
	os.Exit(1)
}

func lines(f func(n int, line []byte)) {
	in := bufio.NewReaderSize(os.Stdin, 1<<20)
	for n := 1; ; n++ {
		line, err := in.ReadBytes('\n')
		if len(line) > 1 {
			f(n, line)
		}
		if err == io.EOF {
			return
		}
		if err != nil {
			fail("%v", err)
		}
	}
}

// How the earlier signer's iterator filled its 100 reused structs, by our reading of
// parquet-go v0.29.0: scalar fields and the vector are overwritten; the attribute map is kept
// and the row's keys set into it, unless the row has none, which gets a fresh empty map.
func decodeInto(slot *Record, fresh Record) {
	attributes := slot.Attributes
	slot.Provider, slot.DepictionId, slot.SubjectId, slot.Model = fresh.Provider, fresh.DepictionId, fresh.SubjectId, fresh.Model
	slot.Embeddings, slot.Created = fresh.Embeddings, fresh.Created
	if len(fresh.Attributes) == 0 || attributes == nil {
		attributes = make(map[string]string, len(fresh.Attributes))
	}
	for k, v := range fresh.Attributes {
		attributes[k] = v
	}
	slot.Attributes = attributes
}

func main() {
	if len(os.Args) < 2 {
		fail("usage: x509peer sign|verify ...")
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	certificate := fs.String("certificate", "", "PEM certificate")
	keyPath := fs.String("key", "", "PEM private key")
	raw := fs.Bool("raw", false, "store raw signatures (base64 in raw_signature)")
	earlier := fs.Bool("earlier", false, "sign as the earlier signer's iterator read records")
	fs.Parse(os.Args[2:])
	cert, err := loadCertificate(*certificate)
	if err != nil {
		fail("%s: %v", *certificate, err)
	}
	out := bufio.NewWriterSize(os.Stdout, 1<<20)
	defer out.Flush()
	enc := json.NewEncoder(out)
	switch os.Args[1] {
	case "sign":
		key, err := loadKey(*keyPath)
		if err != nil {
			fail("%s: %v", *keyPath, err)
		}
		emit := func(rec *Record) {
			data, err := json.Marshal(rec)
			if err != nil {
				fail("%v", err)
			}
			sig, err := sign(key, data)
			if err != nil {
				fail("%v", err)
			}
			// The signer checks its own signature before storing it (its -verify default).
			if err := verify(cert, data, sig); err != nil {
				fail("%s-%s-%s: %v", rec.Provider, rec.DepictionId, rec.Model, err)
			}
			digest := sha256.Sum256(data)
			s := signed{Provider: rec.Provider, DepictionId: rec.DepictionId, Model: rec.Model, RecordHash: hex.EncodeToString(digest[:])}
			if *raw {
				s.RawSignature = base64.StdEncoding.EncodeToString(sig)
			} else {
				s.RecordSignature = string(pem.EncodeToMemory(&pem.Block{Type: "SIGNATURE", Bytes: sig}))
			}
			if err := enc.Encode(&s); err != nil {
				fail("%v", err)
			}
		}
		var records []Record
		lines(func(n int, line []byte) {
			var r Record
			if err := json.Unmarshal(line, &r); err != nil {
				fail("line %d: %v", n, err)
			}
			if *earlier {
				records = append(records, r)
			} else {
				emit(&r)
			}
		})
		if *earlier {
			slots := make([]Record, 100)
			for start := 0; start < len(records); start += 100 {
				end := min(start+100, len(records))
				for i := start; i < end; i++ {
					decodeInto(&slots[i-start], records[i])
				}
				// The batch that reaches the last row comes with io.EOF: the iterator returns.
				if end == len(records) {
					break
				}
				for i := start; i < end; i++ {
					emit(&slots[i-start])
				}
			}
		}
	case "verify":
		lines(func(n int, line []byte) {
			var v toVerify
			if err := json.Unmarshal(line, &v); err != nil {
				fail("line %d: %v", n, err)
			}
			value := []byte(v.RecordSignature)
			if v.RawSignature != "" {
				value, err = base64.StdEncoding.DecodeString(v.RawSignature)
				if err != nil {
					fail("line %d: %v", n, err)
				}
			}
			data, err := json.Marshal(&v.Record)
			if err != nil {
				fail("line %d: %v", n, err)
			}
			if err := verify(cert, data, value); err != nil {
				fmt.Fprintf(out, "invalid: %v\n", err)
			} else {
				fmt.Fprintln(out, "valid")
			}
		})
	default:
		fail("unknown command %s", os.Args[1])
	}
}
