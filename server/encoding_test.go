package server

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/klauspost/compress/gzip"
)

// TestCompressedAnswersStillStream: on a compressed route, what a handler
// flushes reaches the client, gzipped and decodable, while the handler is
// still writing — a streamed 台账 or page is not held back until its end.
func TestCompressedAnswersStillStream(t *testing.T) {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	firstPart := "\uFEFF序号,户主姓名,走访日期\n" + strings.Repeat("1,张三,2026-11-20\n", 200)
	release := make(chan struct{})
	r.GET("/stream", compressed, func(c *gin.Context) {
		c.Header("Content-Type", "text/csv; charset=utf-8")
		c.Status(http.StatusOK)
		_, _ = io.WriteString(c.Writer, firstPart)
		c.Writer.Flush()
		<-release // the rest is written only once the client has the first part
		_, _ = io.WriteString(c.Writer, "201,李四,2026-11-21\n")
	})
	srv := httptest.NewServer(r)
	defer srv.Close()
	defer close(release)

	// The guard only keeps a broken flush from hanging the test run.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/stream", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	res, err := (&http.Client{Transport: &http.Transport{DisableCompression: true}}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if ce, vary := res.Header.Get("Content-Encoding"), res.Header.Get("Vary"); ce != "gzip" || vary != "Accept-Encoding" {
		t.Fatalf("Content-Encoding %q, Vary %q", ce, vary)
	}
	zr, err := gzip.NewReader(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(firstPart))
	if _, err := io.ReadFull(zr, got); err != nil || !bytes.Equal(got, []byte(firstPart)) {
		t.Fatalf("the flushed part did not arrive whole before the handler went on: %v", err)
	}
}

// TestCompressedRouteNeverGzipsTwice: an answer the handler encoded
// itself, or one of a type that is compressed already, goes as it is.
func TestCompressedRouteNeverGzipsTwice(t *testing.T) {
	gin.SetMode(gin.ReleaseMode)
	big := bytes.Repeat([]byte("PK\x03\x04 zip bytes "), 1000)
	for _, tc := range []struct {
		name, contentType, encoding string
	}{
		{"an XLSX 台账", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ""},
		{"a JPEG", "image/jpeg", ""},
		{"a body the handler gzipped", "application/json", "gzip"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := gin.New()
			r.GET("/file", compressed, func(c *gin.Context) {
				if tc.encoding != "" {
					c.Header("Content-Encoding", tc.encoding)
				}
				c.Data(http.StatusOK, tc.contentType, big)
			})
			rec := httptest.NewRecorder()
			req := httptest.NewRequest("GET", "/file", nil)
			req.Header.Set("Accept-Encoding", "gzip")
			r.ServeHTTP(rec, req)
			if rec.Header().Get("Content-Encoding") != tc.encoding || !bytes.Equal(rec.Body.Bytes(), big) {
				t.Fatalf("Content-Encoding %q, %d bytes for %d", rec.Header().Get("Content-Encoding"), rec.Body.Len(), len(big))
			}
		})
	}
}
