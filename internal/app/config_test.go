package app

import (
	"flag"
	"io"
	"testing"
	"time"
)

// TestBodyAndConnectionLimitsAreConfigurable: the body rules and the
// connection cap come from FIELDVISIT_* variables, a flag wins over its
// variable, and zero means the default.
func TestBodyAndConnectionLimitsAreConfigurable(t *testing.T) {
	t.Setenv("FIELDVISIT_BODY_TIMEOUT", "15s")
	t.Setenv("FIELDVISIT_UPLOAD_MIN_BYTES", "512")
	t.Setenv("FIELDVISIT_UPLOAD_WINDOW", "1m")
	t.Setenv("FIELDVISIT_MAX_CONNECTIONS", "300")
	var c Config
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	c.bindServer(fs)
	if err := fs.Parse([]string{"--max-connections", "400"}); err != nil {
		t.Fatal(err)
	}
	if c.BodyTimeout != 15*time.Second || c.UploadMinBytes != 512 || c.UploadWindow != time.Minute || c.MaxConnections != 400 {
		t.Errorf("got body timeout %s, upload %d bytes per %s, %d connections", c.BodyTimeout, c.UploadMinBytes, c.UploadWindow, c.MaxConnections)
	}

	var zero Config
	if err := zero.validate(); err != nil || zero.MaxConnections != defaultMaxConnections {
		t.Errorf("an unset cap must take the default: %v, %d", err, zero.MaxConnections)
	}
	for name, bad := range map[string]Config{
		"negative body timeout": {BodyTimeout: -time.Second},
		"negative upload bytes": {UploadMinBytes: -1},
		"negative cap":          {MaxConnections: -1},
	} {
		if err := bad.validate(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestAReadReplicaNeedsAPostgreSQLPrimary: FIELDVISIT_DATABASE_REPLICA_URL
// is read by the commands that open the whole app, and refused beside the
// embedded SQLite file, which has no standby.
func TestAReadReplicaNeedsAPostgreSQLPrimary(t *testing.T) {
	t.Setenv("FIELDVISIT_DATABASE_REPLICA_URL", "postgres://standby.example/fieldvisit")
	var c Config
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	c.bindStore(fs)
	if err := fs.Parse(nil); err != nil || c.DatabaseReplicaURL != "postgres://standby.example/fieldvisit" {
		t.Fatalf("replica URL from the environment: %q, %v", c.DatabaseReplicaURL, err)
	}
	for primary, ok := range map[string]bool{"": false, "postgres://primary.example/fieldvisit": true} {
		c.DatabaseURL = primary
		if err := c.validate(); (err == nil) != ok {
			t.Errorf("primary %q: validate says %v", primary, err)
		}
	}
}
