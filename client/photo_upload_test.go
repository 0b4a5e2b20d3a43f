package client

import (
	"testing"
	"time"
)

func TestChunkSizeFollowsTheLink(t *testing.T) {
	const k = 1 << 10
	cases := []struct {
		name string
		run  func(s *chunkSizer)
		want int64
	}{
		{"starts at the configured size", func(*chunkSizer) {}, 64 * k},
		{"a fast chunk at most doubles it", func(s *chunkSizer) { s.sent(64*k, 10*time.Millisecond) }, 128 * k},
		{"a chunk at 8 KiB/s aims at ten seconds of it", func(s *chunkSizer) { s.sent(64*k, 8*time.Second) }, 80 * k},
		{"a slow chunk at most halves it", func(s *chunkSizer) { s.sent(64*k, time.Minute) }, 32 * k},
		{"a photo's short tail says nothing", func(s *chunkSizer) { s.sent(20*k, time.Minute) }, 64 * k},
		{"a failed chunk halves it", func(s *chunkSizer) { s.failed() }, 32 * k},
		{"never below 16 KiB", func(s *chunkSizer) { s.failed(); s.failed(); s.failed(); s.failed() }, 16 * k},
		{"never above the server's chunk_max", func(s *chunkSizer) {
			s.limit(100 * k)
			s.sent(64*k, time.Millisecond)
		}, 100 * k},
		{"never above 4 MiB before the server says its chunk_max", func(s *chunkSizer) {
			for range 20 {
				s.sent(s.size, time.Millisecond)
			}
		}, 4 << 20},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newChunkSizer(64 * k)
			tc.run(&s)
			if s.size != tc.want {
				t.Fatalf("chunk size %d KiB, want %d KiB", s.size/k, tc.want/k)
			}
		})
	}
}
