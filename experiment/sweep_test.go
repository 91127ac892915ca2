package experiment

import (
	"testing"
)

func TestConfigHash(t *testing.T) {
	a, b := small(), small()
	if ConfigHash(a) != ConfigHash(b) || len(ConfigHash(a)) != 16 {
		t.Fatal("equal configs hash differently")
	}
	b.TeacherSeed++
	if ConfigHash(a) == ConfigHash(b) {
		t.Fatal("different teachers hash the same")
	}
}
