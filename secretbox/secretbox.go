// Package secretbox encrypts small secrets at rest (third-party access
// tokens) with AES-256-GCM.
//
// The key is 32 bytes, given in ENCRYPTION_KEY as base64 (standard or URL
// alphabet, padded or not) or hex; in the embedded mode it is generated
// once into the data directory (LoadOrCreateKey). Sealed values are text:
// "v1:" followed by the base64 of nonce || ciphertext || tag. An optional
// additional data (for example the id of the row holding the value) binds a
// sealed value to its place: it does not open anywhere else.
package secretbox

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// KeySize is the size of a key in bytes (AES-256).
const KeySize = 32

// EnvKey is the environment variable holding the key.
const EnvKey = "ENCRYPTION_KEY"

// KeyFileName is the key's file in the data directory (embedded mode).
const KeyFileName = "encryption_key"

const prefix = "v1:"

// ErrOpen is returned for a sealed value that does not open: tampered,
// sealed with another key, or with other additional data.
var ErrOpen = errors.New("secretbox: the value cannot be decrypted (wrong key or tampered)")

// Box seals and opens values with one key. It is safe for concurrent use.
type Box struct{ aead cipher.AEAD }

// New returns a Box for a 32-byte key.
func New(key []byte) (*Box, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("secretbox: the key is %d bytes, it must be %d", len(key), KeySize)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Box{aead: aead}, nil
}

// Seal encrypts plaintext with a fresh random nonce, bound to ad.
func (b *Box) Seal(plaintext, ad []byte) string {
	nonce := make([]byte, b.aead.NonceSize(), b.aead.NonceSize()+len(plaintext)+b.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		panic(err) // crypto/rand does not fail
	}
	return prefix + base64.RawStdEncoding.EncodeToString(b.aead.Seal(nonce, nonce, plaintext, ad))
}

// Open decrypts a value made by Seal with the same key and ad.
func (b *Box) Open(sealed string, ad []byte) ([]byte, error) {
	rest, ok := strings.CutPrefix(sealed, prefix)
	if !ok {
		return nil, errors.New("secretbox: not a sealed value")
	}
	raw, err := base64.RawStdEncoding.DecodeString(rest)
	if err != nil || len(raw) < b.aead.NonceSize()+b.aead.Overhead() {
		return nil, errors.New("secretbox: malformed sealed value")
	}
	n := b.aead.NonceSize()
	pt, err := b.aead.Open(nil, raw[:n], raw[n:], ad)
	if err != nil {
		return nil, ErrOpen
	}
	return pt, nil
}

// ParseKey decodes a key given as hex (64 digits) or base64 (standard or
// URL alphabet, padded or not); it must decode to 32 bytes.
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if len(s) == 2*KeySize {
		if k, err := hex.DecodeString(s); err == nil {
			return k, nil
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if k, err := enc.DecodeString(s); err == nil {
			if len(k) != KeySize {
				return nil, fmt.Errorf("secretbox: the key decodes to %d bytes, it must be %d", len(k), KeySize)
			}
			return k, nil
		}
	}
	return nil, fmt.Errorf("secretbox: the key must be %d bytes in base64 or hex", KeySize)
}

// NewKey returns a random key, base64-encoded as ENCRYPTION_KEY takes it.
func NewKey() string {
	k := make([]byte, KeySize)
	if _, err := rand.Read(k); err != nil {
		panic(err)
	}
	return base64.StdEncoding.EncodeToString(k)
}

// LoadOrCreateKey returns the key from envValue if set; otherwise the one
// in dataDir/encryption_key, created with a random key the first time.
func LoadOrCreateKey(envValue, dataDir string) ([]byte, error) {
	if strings.TrimSpace(envValue) != "" {
		k, err := ParseKey(envValue)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", EnvKey, err)
		}
		return k, nil
	}
	s, err := LoadOrCreateFile(dataDir, KeyFileName, NewKey)
	if err != nil {
		return nil, err
	}
	k, err := ParseKey(s)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dataDir, KeyFileName), err)
	}
	return k, nil
}

// LoadOrCreateFile returns the secret kept in dataDir/name, creating the
// file (mode 0600) with generate() the first time. The file appears whole
// or not at all (written aside, then linked into place), so a crash never
// leaves an empty secret behind, and concurrent first starts agree on one
// secret: the loser reads the winner's.
func LoadOrCreateFile(dataDir, name string, generate func() string) (string, error) {
	path := filepath.Join(dataDir, name)
	if s, err := readSecretFile(path); !errors.Is(err, os.ErrNotExist) {
		return s, err
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return "", err
	}
	f, err := os.CreateTemp(dataDir, "."+name+".*.tmp") // mode 0600
	if err != nil {
		return "", err
	}
	defer os.Remove(f.Name())
	_, err = f.WriteString(generate() + "\n")
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Link(f.Name(), path); err != nil && !errors.Is(err, os.ErrExist) {
		return "", fmt.Errorf("creating %s: %w", path, err)
	}
	return readSecretFile(path)
}

func readSecretFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	if err != nil {
		return "", fmt.Errorf("reading %s: %w", path, err)
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return "", fmt.Errorf("secret file %s is empty: delete it to generate a new secret, or set the secret in the environment", path)
	}
	return s, nil
}
