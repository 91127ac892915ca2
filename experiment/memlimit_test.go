package experiment

import (
	"strings"
	"testing"
)

// TestCheckMemoryNamesItsBound: a refusal says which bound refused it.
func TestCheckMemoryNamesItsBound(t *testing.T) {
	t.Setenv("RELUSCOPE_MEM_AVAILABLE", "1000000")
	cfg := Default()
	cfg.Width = 2048
	err := CheckMemory(cfg, 1, 1)
	if err == nil || !strings.Contains(err.Error(), "is available (RELUSCOPE_MEM_AVAILABLE)") {
		t.Fatalf("CheckMemory with 1 MB: %v", err)
	}
}
