package client

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/wire"
)

// fakeJPEG is enough of a JPEG for the phone's own type check (the server's
// checks are exercised against the real server, in photos_test.go).
func fakeJPEG(n int) []byte {
	return append([]byte{0xff, 0xd8, 0xff, 0xe0}, bytes.Repeat([]byte{0x42}, n)...)
}

// recordWithPhotos records a visit with photos of these sizes (plus the
// JPEG signature).
func recordWithPhotos(t *testing.T, h *harness, c *Client, hid uuid.UUID, notes string, sizes ...int) uuid.UUID {
	t.Helper()
	v := h.visit(hid, notes)
	for _, n := range sizes {
		v.PhotoFiles = append(v.PhotoFiles, PhotoFile{Content: bytes.NewReader(fakeJPEG(n))})
	}
	id, err := c.RecordVisit(v)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func photoDirFiles(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(dir, photoDirName))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	sort.Strings(out)
	return out
}

func TestPhotoOutboxOnThePhone(t *testing.T) {
	t.Run("the photos are queued with their visit", func(t *testing.T) {
		h := newHarness(t)
		c, hid := h.ready()
		id := recordWithPhotos(t, h, c, hid, "拍照", 1000, 3000)
		if b := c.Backlog(); b != (Backlog{Records: 1, Photos: 2, PhotoBytes: 1004 + 3004}) {
			t.Fatalf("backlog %+v", b)
		}
		c.Close()
		c = h.open() // as saved
		shown, _ := c.Visit(id)
		want := []string{shown.Photos[0].PhotoID.String(), shown.Photos[1].PhotoID.String()}
		sort.Strings(want)
		if got := photoDirFiles(t, h.dir); len(got) != 2 || got[0] != want[0] || got[1] != want[1] || c.Backlog().Photos != 2 {
			t.Fatalf("photo files %v for the visit's photos %v", got, want)
		}
	})
	t.Run("an invalid visit leaves no copy", func(t *testing.T) {
		h := newHarness(t)
		c, hid := h.ready()
		v := h.visit(hid, "走访类型缺失")
		v.Kind = ""
		v.PhotoFiles = []PhotoFile{{Content: bytes.NewReader(fakeJPEG(1000))}}
		var ve *ValidationError
		if _, err := c.RecordVisit(v); !errors.As(err, &ve) {
			t.Fatalf("an invalid visit: %v", err)
		}
		if files := photoDirFiles(t, h.dir); len(files) != 0 || c.Backlog() != (Backlog{}) {
			t.Fatalf("files %v, backlog %+v", files, c.Backlog())
		}
	})
	t.Run("a visit deleted before it was sent takes its photos with it", func(t *testing.T) {
		h := newHarness(t)
		c, hid := h.ready()
		id := recordWithPhotos(t, h, c, hid, "误建的走访", 1000)
		recordWithPhotos(t, h, c, hid, "保留的走访", 2000)
		if err := c.DeleteVisit(id); err != nil {
			t.Fatal(err)
		}
		if b := c.Backlog(); b != (Backlog{Records: 1, Photos: 1, PhotoBytes: 2004}) || len(photoDirFiles(t, h.dir)) != 1 {
			t.Fatalf("backlog %+v, files %v", b, photoDirFiles(t, h.dir))
		}
	})
	t.Run("files no save names are removed when the client opens", func(t *testing.T) {
		h := newHarness(t)
		c, hid := h.ready()
		recordWithPhotos(t, h, c, hid, "拍照", 1000)
		queued := photoDirFiles(t, h.dir)
		c.Close()
		// A copy whose recording died before its save, and a copy cut short.
		for _, name := range []string{uuid.NewString(), photoTmpPrefix + "123"} {
			if err := os.WriteFile(filepath.Join(h.dir, photoDirName, name), fakeJPEG(10), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		h.open()
		if got := photoDirFiles(t, h.dir); len(got) != 1 || got[0] != queued[0] {
			t.Fatalf("after opening: %v, want only the queued %v", got, queued)
		}
	})
	t.Run("another user cannot sign in while photos wait", func(t *testing.T) {
		h := newHarness(t)
		c, hid := h.ready()
		recordWithPhotos(t, h, c, hid, "拍照", 1000)
		// Only the photo is left: the record went up.
		if _, err := c.Push(context.Background()); err != nil || c.Pending() != 0 {
			t.Fatalf("push: %v, %d pending", err, c.Pending())
		}
		h.fs.mu.Lock()
		h.fs.user = wire.User{ID: uuid.New(), Username: "cadre02", Role: "cadre"}
		h.fs.mu.Unlock()
		if _, err := c.Login(context.Background(), "cadre02", "pw"); !errors.Is(err, ErrOtherUser) {
			t.Fatalf("another user's login with a photo waiting: %v", err)
		}
	})
}
