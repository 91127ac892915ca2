package report

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/reluscope/reluscope/internal/osutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgpdf"
	"gonum.org/v1/plot/vg/vgsvg"
)

func newCanvas(path string, w, h vg.Length) (vg.CanvasWriterTo, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".png":
		return vgimg.PngCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(figureDPI))}, nil
	case ".svg":
		return vgsvg.New(w, h), nil
	case ".pdf":
		return vgpdf.New(w, h), nil
	}
	return nil, fmt.Errorf("%s: the figure can be .png, .svg or .pdf", path)
}

func saveCanvas(path string, c vg.CanvasWriterTo) error {
	var b bytes.Buffer
	if _, err := c.WriteTo(&b); err != nil {
		return err
	}
	return osutil.WriteFileAtomic(path, b.Bytes())
}
