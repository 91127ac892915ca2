package main

import (
	"bytes"
	"os"
	"testing"
)

// The device check builds from the project alone (bench/gpu.sh build copies
// bench/torch_gpu.py); the copy stays the shared PyTorch twin's, byte for
// byte, where ../shared is beside the project.
func TestTorchTwinIsTheSharedOne(t *testing.T) {
	ours, err := os.ReadFile("bench/torch_gpu.py")
	if err != nil {
		t.Fatal(err)
	}
	shared, err := os.ReadFile("../shared/bench/torch_gpu.py")
	if err != nil {
		t.Skip("no ../shared beside the project: ", err)
	}
	if !bytes.Equal(ours, shared) {
		t.Fatal("bench/torch_gpu.py differs from ../shared/bench/torch_gpu.py: copy it again")
	}
}
