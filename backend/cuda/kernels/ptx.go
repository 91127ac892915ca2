package kernels

import _ "embed"

// PTX is the kernels' PTX text, JIT-compiled by the driver when the cuda
// engine loads it. Regenerate it with gen.sh (go generate).
//
//go:embed kernels.ptx
var PTX string

//go:generate bash gen.sh
