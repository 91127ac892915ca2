package gemm

import "golang.org/x/sys/cpu"

// hasAsm reports whether the AVX2/FMA kernels can run here.
var hasAsm = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// has512 reports whether the AVX-512 kernels can run here.
var has512 = cpu.X86.HasAVX512F && cpu.X86.HasAVX512DQ
