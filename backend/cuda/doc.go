// Package cuda is reluscope's GPU engine: the model contract of package
// backend on an NVIDIA GPU, through gorgonia.org/cu (the CUDA driver API),
// cuBLAS loaded at run time for the matrix products, and kernels shipped as
// PTX text (kernels/kernels.ptx, generated from kernels/kernels.cu) for the
// elementwise work, the MSE, Adam, the batch gather and the error reductions.
//
// Only the files that touch the device carry the build tag gpu (not cuda:
// with that tag gorgonia builds its own CUDA variant, which needs cuDNN): a
// binary linked with cu needs the NVIDIA driver's libcuda.so.1 even to
// start, so the default binary never links it. Everything else here — the
// plan of a model's buffers and products, launch sizes, the kernel table,
// staging of inputs, the combining of the device's error records, and the
// whole sequence of operations of a step — is ordinary Go that the default
// build compiles and tests: a model runs on an executor, either the device
// (tag gpu) or a host emulator (emulator.go: the kernels' own source
// compiled as C, a reference GEMM, device work run only when the host waits
// for it, as a stream runs it), which checks the sequence, kernels
// included, against the native engine without a GPU.
//
// The device executor owns one CUDA context on one locked OS thread; every
// operation of a model runs there (the explorer's and the sweep's goroutines
// hand their work to it). Work goes on the default stream, in order; the
// evaluation's points come from page-locked host memory by asynchronous
// copies (stage.go), each piece staged while the device works on the last.
// Which path a step or an evaluation takes is a measured, fixed table
// (paths.go, paths.json).
package cuda
