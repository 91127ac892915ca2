package main

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestImportDirection: the arrows point one way. Nothing under experiment/,
// backend/ or presets/ imports the explorer or a terminal library; the
// plotting library asciigraph is only for experiment/textplot (plain-text
// charts, no terminal) and the report that draws with it; internal/osutil,
// the operating system's side, imports nothing of reluscope's.
func TestImportDirection(t *testing.T) {
	terminal := []string{"github.com/reluscope/reluscope/tui", "github.com/charmbracelet/bubbletea", "github.com/charmbracelet/lipgloss", "github.com/charmbracelet/bubbles"}
	plot := "github.com/guptarohit/asciigraph"
	mayPlot := map[string]bool{"experiment/textplot": true, "experiment/report": true}
	checked := 0
	for _, root := range []string{"experiment", "backend", "presets", "internal"} {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") {
				return err
			}
			f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
			if err != nil {
				return err
			}
			checked++
			for _, im := range f.Imports {
				p, _ := strconv.Unquote(im.Path.Value)
				for _, bad := range terminal {
					if strings.HasPrefix(p, bad) {
						t.Errorf("%s imports %s: only tui may", path, p)
					}
				}
				if strings.HasPrefix(filepath.ToSlash(path), "internal/osutil/") && strings.HasPrefix(p, "github.com/reluscope/reluscope") {
					t.Errorf("%s imports %s: the OS helpers stand below everything", path, p)
				}
				if p == plot && !mayPlot[filepath.ToSlash(filepath.Dir(path))] {
					t.Errorf("%s imports %s: only experiment/textplot and experiment/report may", path, p)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if checked < 50 {
		t.Fatalf("only %d files checked", checked)
	}
}
