package telegram

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/mymmrac/telego"
)

// DefaultMediaMaxMB is the inbound download limit when mediaMaxMb is unset.
const DefaultMediaMaxMB = 5

// mediaTTL is how long a downloaded inbound file is kept: like the
// original's media store, files older than this are removed at the next
// download (the turn that needed it has read it by then).
const mediaTTL = 2 * time.Minute

// InboundMediaDir is where inbound files go: <stateDir>/media/inbound, as
// in the original.
func InboundMediaDir(stateDir string) string { return filepath.Join(stateDir, "media", "inbound") }

// Download fetches a file by id (getFile, then the file URL) into dir,
// refusing more than maxBytes; it returns the local path.
func (c *Client) Download(ctx context.Context, fileID, dir string, maxBytes int64) (string, error) {
	f, err := c.bot.GetFile(ctx, &telego.GetFileParams{FileID: fileID})
	if err != nil {
		return "", err
	}
	if f.FilePath == "" {
		return "", fmt.Errorf("telegram getFile returned no file_path")
	}
	if f.FileSize > maxBytes {
		return "", fmt.Errorf("telegram media is %d bytes, over the %d MB limit (channels.telegram.mediaMaxMb)", f.FileSize, maxBytes>>20)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.bot.FileDownloadURL(f.FilePath), nil)
	if err != nil {
		return "", err
	}
	res, err := c.http.Do(req)
	if err != nil {
		// The URL holds the token; say which file, not where.
		return "", fmt.Errorf("telegram media download of %s failed", path.Base(f.FilePath))
	}
	defer func() { _ = res.Body.Close() }()
	if res.StatusCode != http.StatusOK {
		return "", fmt.Errorf("telegram media download: HTTP %d", res.StatusCode)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	cleanOld(dir, time.Now().Add(-mediaTTL))
	var id [16]byte
	_, _ = rand.Read(id[:])
	dst := filepath.Join(dir, hex.EncodeToString(id[:])+strings.ToLower(path.Ext(f.FilePath)))
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", err
	}
	n, err := io.Copy(out, io.LimitReader(res.Body, maxBytes+1))
	cerr := out.Close()
	if err == nil {
		err = cerr
	}
	if err == nil && n > maxBytes {
		err = fmt.Errorf("telegram media is over the %d MB limit (channels.telegram.mediaMaxMb)", maxBytes>>20)
	}
	if err != nil {
		_ = os.Remove(dst)
		return "", err
	}
	return dst, nil
}

func cleanOld(dir string, before time.Time) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if info, err := e.Info(); err == nil && info.Mode().IsRegular() && info.ModTime().Before(before) {
			_ = os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}
