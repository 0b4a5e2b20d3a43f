package app

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/fieldvisit/fieldvisit/internal/testkit/browsertest"
)

// aBatchTooLargeGoesUpChangeByChange: behind a proxy whose body limit is
// smaller than the server's (nginx's is 1 MB, a phone's batch up to 1 MB
// and more), a batch refused whole as too large (413) goes up again change
// by change in the same sync, and 待处理 says so in words, the status left
// to the help desk; a change too large by itself is refused as the server
// refuses a change, for the cadre to shorten or give up. The same batch
// went up, refused, in a loop, a notice more each time, and the notice said
// only 一批记录未被服务器接受（413）.
func aBatchTooLargeGoesUpChangeByChange(t *testing.T, l *fieldLink) {
	b := browsertest.Start(t, browsertest.SmallPhone)
	b.Geolocation(l.url, 32.444987, 115.005121, 12)
	l.openApp(b)
	appSignIn(b, "cadre12")
	b.Do(synced(b))

	const tooLong = "13900000999" // this change alone is too large for the proxy
	var refused atomic.Int64
	server := *l.handler.Load()
	proxy := http.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Path == "/api/v1/sync/push" {
			raw, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(raw))
			body := raw
			if r.Header.Get("Content-Encoding") == "gzip" {
				if zr, err := gzip.NewReader(bytes.NewReader(raw)); err == nil {
					body, _ = io.ReadAll(zr)
				}
			}
			var batch struct {
				Changes []json.RawMessage `json:"changes"`
			}
			_ = json.Unmarshal(body, &batch)
			if len(batch.Changes) > 1 || strings.Contains(string(body), tooLong) {
				refused.Add(1)
				w.Header().Set("Content-Type", "text/html")
				w.WriteHeader(http.StatusRequestEntityTooLarge)
				io.WriteString(w, "<html><body><h1>413 Request Entity Too Large</h1></body></html>")
				return
			}
		}
		server.ServeHTTP(w, r)
	}))
	l.handler.Store(&proxy)
	defer l.handler.Store(&server)

	browsertest.Get(b, chromedp.Evaluate[string](`location.hash = "#/households"`))
	b.Do(chromedp.WaitVisible(chromedp.CSS(`.households li:nth-child(2) a`)))
	var households []string
	for i := 1; i <= 2; i++ {
		households = append(households, strings.TrimPrefix(browsertest.Get(b, chromedp.Evaluate[string](
			`document.querySelector(".households li:nth-child(`+string(rune('0'+i))+`) a").getAttribute("href")`)), "#/h/"))
	}
	b.Offline(true)
	phones := []string{"13900000931", "13900000932"}
	for i, h := range households {
		editPhone(b, h, phones[i])
	}
	backOnline(b)
	b.Do(step("both edits up, one by one", until(`document.body.dataset.records === "0" && document.body.dataset.attention === "1" && document.body.dataset.sync === "idle"`, 30*time.Second)))
	token := l.apiLogin(t, "cadre12")
	for i, h := range households {
		var got struct {
			Phone string `json:"phone"`
		}
		if l.api(t, token, "GET", "/api/v1/households/"+h, "", &got); got.Phone != phones[i] {
			t.Errorf("household %s has phone %q on the server, want %q", h, got.Phone, phones[i])
		}
	}
	if n := refused.Load(); n != 1 {
		t.Errorf("the proxy refused %d pushes, want the batch of two once", n)
	}
	browsertest.Get(b, chromedp.Evaluate[string](`location.hash = "#/outbox"`))
	b.Do(step("the notice", chromedp.WaitVisible(chromedp.CSS(`.attention-item.kind-batch`))))
	said := browsertest.Get(b, chromedp.Evaluate[string](`document.querySelector(".attention-item.kind-batch strong").textContent`))
	title := browsertest.Get(b, chromedp.Evaluate[string](`document.querySelector(".attention-item.kind-batch").title`))
	if strings.Contains(said, "413") || !strings.Contains(said, "逐条上传") || title != "HTTP 413" {
		t.Errorf("待处理 says %q (title %q); want words (…逐条上传), the status in the title only", said, title)
	}

	// One change too large by itself is refused, not sent for ever.
	editPhone(b, households[0], tooLong)
	b.Do(step("too large alone", until(`document.body.dataset.records === "0" && document.body.dataset.attention === "2" && document.body.dataset.sync === "idle"`, 30*time.Second)))
	browsertest.Get(b, chromedp.Evaluate[string](`location.hash = "#/outbox"`))
	b.Do(step("the refusal", chromedp.WaitVisible(chromedp.CSS(`.attention-item.kind-rejected`))))
	if said := browsertest.Get(b, chromedp.Evaluate[string](`document.querySelector(".attention-item.kind-rejected").textContent`)); !strings.Contains(said, "超出服务器的接收上限") {
		t.Errorf("the change too large alone shows %q", said)
	}
	if n := refused.Load(); n != 2 {
		t.Errorf("the proxy refused %d pushes, want 2: the change too large alone went up more than once", n)
	}
	noProblems(t, b, "/api/v1/sync/push")
}
