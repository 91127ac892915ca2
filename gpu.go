//go:build gpu

package main

// A binary built with -tags gpu has the cuda engine (see README: GPU).
import _ "github.com/reluscope/reluscope/backend/cuda"
