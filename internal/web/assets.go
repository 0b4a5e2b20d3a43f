package web

import (
	"embed"

	"github.com/fieldvisit/fieldvisit/internal/webasset"
)

//go:embed assets
var assetFiles embed.FS

// loadAssets reads the embedded assets, fingerprints each with the first
// 12 hex digits of its SHA-256 (a changed file gets a new URL, so browsers
// may keep every URL for a year) and compresses each once
// (internal/webasset, which the field app shares).
func loadAssets(prefix string) (*webasset.Set, error) {
	return webasset.Load(assetFiles, "assets", prefix+"assets/", true)
}
