package auth

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// KeyRing holds the Ed25519 keys that sign and verify access tokens. Keys
// live as PKCS#8 PEM files named <kid>.pem in one directory; the newest file
// signs, every file verifies, so a key is rotated by adding a new file and
// removing the old one after the longest token lifetime has passed.
type KeyRing struct {
	signKID string
	keys    map[string]ed25519.PrivateKey
}

// LoadOrCreateKeyRing loads dir, generating a first key if it has none.
func LoadOrCreateKeyRing(dir string) (*KeyRing, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create key dir: %w", err)
	}
	kr, err := LoadKeyRing(dir)
	if err == nil {
		return kr, nil
	}
	if !errors.Is(err, errNoKeys) {
		return nil, err
	}
	if _, err := GenerateKey(dir, time.Now()); err != nil {
		return nil, err
	}
	return LoadKeyRing(dir)
}

var errNoKeys = errors.New("no signing keys")

// LoadKeyRing reads every <kid>.pem in dir.
func LoadKeyRing(dir string) (*KeyRing, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	type named struct {
		kid string
		mod time.Time
	}
	var found []named
	kr := &KeyRing{keys: map[string]ed25519.PrivateKey{}}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".pem") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		blk, _ := pem.Decode(b)
		if blk == nil {
			return nil, fmt.Errorf("key %s: not PEM", e.Name())
		}
		k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("key %s: %w", e.Name(), err)
		}
		ek, ok := k.(ed25519.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("key %s: not an Ed25519 key", e.Name())
		}
		kid := strings.TrimSuffix(e.Name(), ".pem")
		kr.keys[kid] = ek
		info, _ := e.Info()
		found = append(found, named{kid, info.ModTime()})
	}
	if len(found) == 0 {
		return nil, errNoKeys
	}
	// kids start with a UTC timestamp, so the lexically greatest is newest
	sort.Slice(found, func(i, j int) bool { return found[i].kid < found[j].kid })
	kr.signKID = found[len(found)-1].kid
	return kr, nil
}

// GenerateKey writes a new key into dir and returns its kid.
func GenerateKey(dir string, now time.Time) (string, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return "", err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return "", err
	}
	suffix := make([]byte, 4)
	if _, err := rand.Read(suffix); err != nil {
		return "", err
	}
	kid := now.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(suffix)
	path := filepath.Join(dir, kid+".pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		return "", err
	}
	return kid, nil
}

// NewKeyRing builds a ring from keys in memory (tests).
func NewKeyRing(signKID string, keys map[string]ed25519.PrivateKey) *KeyRing {
	return &KeyRing{signKID: signKID, keys: keys}
}

func (kr *KeyRing) signing() (string, ed25519.PrivateKey) { return kr.signKID, kr.keys[kr.signKID] }

func (kr *KeyRing) public(kid string) (ed25519.PublicKey, bool) {
	k, ok := kr.keys[kid]
	if !ok {
		return nil, false
	}
	return k.Public().(ed25519.PublicKey), true
}

// SigningKey returns the kid and key that sign new tokens (tests forge
// tokens with it).
func (kr *KeyRing) SigningKey() (string, ed25519.PrivateKey) { return kr.signing() }
