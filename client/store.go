package client

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// The state directory holds two slot files, state.0 and state.1, and a lock
// file. Each save writes the whole state, as generation g+1, into the slot
// that does NOT hold generation g, and fsyncs it before the save returns. A
// slot starts with a header line
//
//	fieldvisit-client-state 1 <generation> <length> <sha256 of the body>
//
// followed by the JSON body. On open both slots are read and the valid slot
// with the highest generation wins; a slot whose length or checksum does not
// match (a torn write: the process or the phone died mid-save) is ignored, so
// the state is always the last save that completed. A save that did not
// complete never returned success, so nothing a caller was told is lost.
const (
	slotMagic   = "fieldvisit-client-state"
	slotFormat  = 1
	slotPrefix  = "state."
	lockName    = "lock"
	maxSlotSize = 1 << 30
)

// ErrCorruptState means neither state slot in the directory could be read:
// the client refuses to start empty over them (that would drop the outbox).
var ErrCorruptState = errors.New("client: the state directory holds no readable state (both slots are damaged); refusing to start over it")

// diskStore reads and writes the double-buffered state slots of one Dir.
type diskStore struct {
	dir     string
	gen     uint64 // generation of the last completed save (0: none yet)
	noSync  bool
	dirSync bool // the directory entry of each slot has been fsynced
}

func slotPath(dir string, i uint64) string {
	return filepath.Join(dir, slotPrefix+strconv.FormatUint(i%2, 10))
}

// load returns the newest valid body, or nil for a fresh directory. recovered
// names a slot that was damaged (and ignored) when another slot was valid.
func (d *diskStore) load() (body []byte, recovered string, err error) {
	var best []byte
	var bestGen uint64
	var damaged []string
	present := 0
	for i := uint64(0); i < 2; i++ {
		p := slotPath(d.dir, i)
		raw, err := os.ReadFile(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, "", fmt.Errorf("client: read %s: %w", p, err)
		}
		present++
		gen, b, ok := parseSlot(raw)
		if !ok {
			damaged = append(damaged, filepath.Base(p))
			continue
		}
		if gen%2 != i {
			damaged = append(damaged, filepath.Base(p))
			continue
		}
		if best == nil || gen > bestGen {
			best, bestGen = b, gen
		}
	}
	if best == nil {
		if present > 0 {
			// Only a slot that was being written for the very first save
			// can be damaged with no valid one beside it; an empty file
			// from a save that died before writing is that case too.
			if present == 1 && len(damaged) == 1 && d.firstSaveOnly() {
				return nil, damaged[0], nil
			}
			return nil, "", ErrCorruptState
		}
		return nil, "", nil
	}
	d.gen = bestGen
	return best, strings.Join(damaged, ","), nil
}

// firstSaveOnly reports whether the only slot present is slot 1 (generation
// 1 is written to slot 1): a damaged first save means nothing was ever
// committed, so starting empty loses nothing.
func (d *diskStore) firstSaveOnly() bool {
	_, err0 := os.Stat(slotPath(d.dir, 0))
	return errors.Is(err0, fs.ErrNotExist)
}

func parseSlot(raw []byte) (gen uint64, body []byte, ok bool) {
	nl := bytes.IndexByte(raw, '\n')
	if nl < 0 {
		return 0, nil, false
	}
	f := strings.Fields(string(raw[:nl]))
	if len(f) != 5 || f[0] != slotMagic || f[1] != strconv.Itoa(slotFormat) {
		return 0, nil, false
	}
	gen, err := strconv.ParseUint(f[2], 10, 64)
	if err != nil || gen == 0 {
		return 0, nil, false
	}
	n, err := strconv.Atoi(f[3])
	if err != nil || n != len(raw)-nl-1 {
		return 0, nil, false
	}
	body = raw[nl+1:]
	sum := sha256.Sum256(body)
	if hex.EncodeToString(sum[:]) != f[4] {
		return 0, nil, false
	}
	return gen, body, true
}

// save writes body as the next generation and makes it durable.
func (d *diskStore) save(body []byte) error {
	if len(body) > maxSlotSize {
		return fmt.Errorf("client: state of %d bytes is too large", len(body))
	}
	gen := d.gen + 1
	sum := sha256.Sum256(body)
	header := fmt.Sprintf("%s %d %d %d %s\n", slotMagic, slotFormat, gen, len(body), hex.EncodeToString(sum[:]))
	p := slotPath(d.dir, gen)
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("client: save state: %w", err)
	}
	buf := make([]byte, 0, len(header)+len(body))
	buf = append(append(buf, header...), body...)
	if _, err := f.Write(buf); err != nil {
		f.Close()
		return fmt.Errorf("client: save state: %w", err)
	}
	if !d.noSync {
		if err := f.Sync(); err != nil {
			f.Close()
			return fmt.Errorf("client: save state: fsync: %w", err)
		}
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("client: save state: %w", err)
	}
	if !d.dirSync && !d.noSync {
		// The slot files are created once; make their directory entries
		// durable too so a crash cannot forget a slot exists.
		if err := syncDir(d.dir); err != nil {
			return fmt.Errorf("client: save state: fsync dir: %w", err)
		}
		if gen >= 2 {
			d.dirSync = true
		}
	}
	d.gen = gen
	return nil
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return err
	}
	return nil
}
