package handlers_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/omnilink/omnilink/handlers"
	"github.com/omnilink/omnilink/internal/testutil"
	"github.com/omnilink/omnilink/models"
)

// filler is an endless-looking body of n bytes made on the fly (so the client holds no copy),
// after a prefix; at calls once when `at` bytes have been handed to the transport.
type filler struct {
	prefix io.Reader
	n, at  int64
	sent   int64
	hit    func()
}

func (f *filler) Read(p []byte) (int, error) {
	if f.prefix != nil {
		n, err := f.prefix.Read(p)
		if err == io.EOF {
			f.prefix, err = nil, nil
		}
		if n > 0 || err != nil {
			return n, err
		}
	}
	if f.sent >= f.n {
		return 0, io.EOF
	}
	if int64(len(p)) > f.n-f.sent {
		p = p[:f.n-f.sent]
	}
	for i := range p {
		p[i] = 'a'
	}
	if f.hit != nil && f.sent < f.at && f.sent+int64(len(p)) >= f.at {
		f.hit()
	}
	f.sent += int64(len(p))
	return len(p), nil
}

// send posts body with the given content type through c's cookies; a transport error (the
// server hanging up on a refused body) is returned as status 0.
func send(c *testutil.Client, ctx context.Context, target, contentType string, body io.Reader, header http.Header) (int, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, target, body)
	req.Header.Set("Content-Type", contentType)
	for k, v := range header {
		req.Header[k] = v
	}
	res, err := c.HTTP.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode, nil
}

func TestChunkedBodyOverLimitIsRefused(t *testing.T) {
	a := testutil.NewApp(t)
	team := a.Team("T")
	a.User(team.ID, models.RoleAdmin, "boss@t.test")
	c := a.Client()
	c.Login("boss@t.test", testutil.Password)
	c.Get("/users/invite")
	form := url.Values{"_csrf": {c.CSRF()}, "email": {"big@t.test"}, "name": {"Big"}, "role": {"agent"}}
	// No Content-Length: the transport sends it chunked, so only counting the bytes can stop it.
	body := &filler{prefix: strings.NewReader(form.Encode() + "&pad="), n: 5 << 20}
	status, err := send(c, context.Background(), a.URL+"/users/invite", "application/x-www-form-urlencoded", body, nil)
	if err != nil || status != http.StatusRequestEntityTooLarge {
		t.Fatalf("chunked 5 MB form: %d %v, want 413", status, err)
	}
	if _, err := a.Store.UserByEmailSystem(context.Background(), "big@t.test"); err == nil {
		t.Fatal("a 5 MB chunked form created a user")
	}
	// The same form at a normal size works, so the refusal was the size.
	if r := c.Submit("/users/invite", "/users/invite", url.Values{"email": {"small@t.test"}, "name": {"Small"}, "role": {"agent"}}); r.Status != http.StatusSeeOther {
		t.Fatalf("normal form: %d", r.Status)
	}
}

func TestMultipartRefusedOutsideUploadRoutes(t *testing.T) {
	a := testutil.NewApp(t)
	team := a.Team("T")
	a.User(team.ID, models.RoleAdmin, "boss@t.test")
	c := a.Client()
	c.Get("/login")
	// A complete, valid login form as multipart, followed by a body that never comes: a server
	// that reads it before refusing would wait here until the guard below gives up.
	var head bytes.Buffer
	mw := multipart.NewWriter(&head)
	_ = mw.WriteField("_csrf", c.CSRF())
	_ = mw.WriteField("email", "boss@t.test")
	_ = mw.WriteField("password", testutil.Password)
	fw, _ := mw.CreateFormFile("blob", "blob.bin")
	_, _ = fw.Write([]byte("start"))
	pr, pw := io.Pipe()
	go func() { _, _ = pw.Write(head.Bytes()) }()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second) // a hang guard, not a timing assertion
	defer cancel()
	context.AfterFunc(ctx, func() { pw.CloseWithError(ctx.Err()) }) // lets the transport's writer give up too
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, a.URL+"/login", pr)
	req.ContentLength = 64 << 20
	req.Header.Set("Content-Type", mw.FormDataContentType())
	res, err := c.HTTP.Do(req)
	if errors.Is(err, context.DeadlineExceeded) {
		t.Fatal("the server waited for the multipart body instead of refusing it unread")
	}
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusUnsupportedMediaType {
		t.Fatalf("multipart login: %d, want 415", res.StatusCode)
	}
	if r := c.Get("/"); r.Status != http.StatusSeeOther {
		t.Fatal("a multipart login signed in")
	}
}

// uploadApp is the real app with a test double of an upload route (limit 3 MB) that reports
// what it received.
func uploadApp(t *testing.T) *testutil.TestApp {
	a := testutil.NewApp(t)
	a.Echo.POST("/test/upload", func(c echo.Context) error {
		fh, err := c.FormFile("file")
		if err != nil {
			return c.String(http.StatusBadRequest, err.Error())
		}
		return c.String(http.StatusOK, fmt.Sprintf("%s %d %s", fh.Filename, fh.Size, c.Request().MultipartForm.Value["title"]))
	}, handlers.Upload(3<<20))
	return a
}

// multipartBody builds a form with a title, the CSRF token (unless empty) and a file of size n.
func multipartBody(token string, n int) (string, *bytes.Buffer) {
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	if token != "" {
		_ = mw.WriteField("_csrf", token)
	}
	_ = mw.WriteField("title", "夏季活動")
	fw, _ := mw.CreateFormFile("file", "card.png")
	_, _ = fw.Write(bytes.Repeat([]byte{0x89}, n))
	_ = mw.Close()
	return mw.FormDataContentType(), &b
}

func TestUploadRouteContract(t *testing.T) {
	a := uploadApp(t)
	c := a.Client()
	c.Get("/login")
	token := c.CSRF()
	post := func(token string, size int, header http.Header) int {
		ct, body := multipartBody(token, size)
		status, err := send(c, context.Background(), a.URL+"/test/upload", ct, body, header)
		if err != nil {
			t.Fatal(err)
		}
		return status
	}
	// Above the global 1 MB, within the route's 3 MB, token in the form: accepted.
	if st := post(token, 2<<20, nil); st != http.StatusOK {
		t.Fatalf("2 MB upload with the form token: %d", st)
	}
	// Token in the header instead (htmx), none in the form: accepted.
	if st := post("", 1000, http.Header{"X-Csrf-Token": {token}}); st != http.StatusOK {
		t.Fatalf("upload with the header token: %d", st)
	}
	if st := post("", 1000, nil); st != http.StatusForbidden {
		t.Fatalf("upload without a token: %d, want 403", st)
	}
	if st := post("forged-token-forged-token-forged-token-x", 1000, nil); st != http.StatusForbidden {
		t.Fatalf("upload with a forged token: %d, want 403", st)
	}
	// The token counts only in the header or the form, and the origin is checked before reading.
	ct, body := multipartBody("", 1000)
	if st, err := send(c, context.Background(), a.URL+"/test/upload?_csrf="+url.QueryEscape(token), ct, body, nil); err != nil || st != http.StatusForbidden {
		t.Fatalf("upload with the token in the query string: %d %v, want 403", st, err)
	}
	if st := post(token, 1000, http.Header{"Origin": {"https://evil.example"}}); st != http.StatusForbidden {
		t.Fatalf("cross-origin upload: %d, want 403", st)
	}
	if st := post(token, 4<<20, nil); st != http.StatusRequestEntityTooLarge {
		t.Fatalf("4 MB upload to a 3 MB route: %d, want 413", st)
	}
	// Chunked, so only counting stops it.
	ct, body = multipartBody(token, 4<<20)
	if st, err := send(c, context.Background(), a.URL+"/test/upload", ct, io.MultiReader(body), nil); err != nil || st != http.StatusRequestEntityTooLarge {
		t.Fatalf("chunked 4 MB upload: %d %v, want 413", st, err)
	}
	// A multipart type with no body at all is a bad request, not a crash.
	if st, err := send(c, context.Background(), a.URL+"/test/upload", ct, http.NoBody, http.Header{"X-Csrf-Token": {token}}); err != nil || st != http.StatusBadRequest {
		t.Fatalf("empty multipart body: %d %v, want 400", st, err)
	}
	// Any other body sent to an upload route keeps the global limit.
	big := &filler{prefix: strings.NewReader("_csrf=" + url.QueryEscape(token) + "&pad="), n: 2 << 20}
	if st, err := send(c, context.Background(), a.URL+"/test/upload", "application/x-www-form-urlencoded", big, nil); err != nil || st != http.StatusRequestEntityTooLarge {
		t.Fatalf("2 MB form to an upload route: %d %v, want 413", st, err)
	}
}

// dirUsage sums the sizes of the files under dir.
func dirUsage(t *testing.T, dir string) int64 {
	var n int64
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if info, err := d.Info(); err == nil {
				n += info.Size()
			}
		}
		return nil
	})
	return n
}

// TestLargeBodiesStayBounded sends 16 large unauthenticated bodies at once, multipart to the
// login form and chunked forms, and measures what they cost the process: heap allocated and
// kept, and temporary files. Each body is 48 MB; a server that parses before limiting holds
// tens of megabytes per request in memory or on disk while the body is still arriving, which
// the checkpoint (each body's 44th megabyte leaving the client) observes.
func TestLargeBodiesStayBounded(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp) // where mime/multipart spills file parts
	a := testutil.NewApp(t)
	c := a.Client()
	c.Get("/login")
	token := c.CSRF()

	var (
		mu       sync.Mutex
		peakDisk int64
		peakHeap uint64
	)
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	checkpoint := func() {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		d := dirUsage(t, tmp)
		mu.Lock()
		peakDisk = max(peakDisk, d)
		peakHeap = max(peakHeap, ms.HeapAlloc)
		mu.Unlock()
	}
	const size, at = 48 << 20, 44 << 20
	var wg sync.WaitGroup
	statuses := make([]int, 16)
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var ct string
			var prefix io.Reader
			if i%2 == 0 {
				var head bytes.Buffer
				mw := multipart.NewWriter(&head)
				_ = mw.WriteField("_csrf", token)
				_ = mw.WriteField("email", "nobody@t.test")
				_, _ = mw.CreateFormFile("blob", "blob.bin")
				ct, prefix = mw.FormDataContentType(), &head
			} else {
				ct, prefix = "application/x-www-form-urlencoded", strings.NewReader("_csrf="+url.QueryEscape(token)+"&email=nobody%40t.test&password=")
			}
			statuses[i], _ = send(c, context.Background(), a.URL+"/login", ct, &filler{prefix: prefix, n: size, at: at, hit: checkpoint}, nil)
		}()
	}
	wg.Wait()
	checkpoint()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	allocated := after.TotalAlloc - before.TotalAlloc
	heapGrowth := int64(peakHeap) - int64(before.HeapAlloc)
	t.Logf("statuses %v; allocated %d MB, peak heap growth %d MB, peak temp files %d MB", statuses, allocated>>20, heapGrowth>>20, peakDisk>>20)
	for i, st := range statuses {
		if st != 0 && st != http.StatusUnsupportedMediaType && st != http.StatusRequestEntityTooLarge {
			t.Errorf("body %d answered %d, want 415 (multipart) or 413 (form), or a hang-up", i, st)
		}
	}
	// Generous bounds: a few megabytes per request is fine; the whole bodies are not.
	if allocated > 256<<20 {
		t.Errorf("16 refused bodies allocated %d MB", allocated>>20)
	}
	if heapGrowth > 128<<20 {
		t.Errorf("heap grew by %d MB while the bodies arrived", heapGrowth>>20)
	}
	if peakDisk > 16<<20 {
		t.Errorf("temporary files reached %d MB", peakDisk>>20)
	}
	if n, _ := os.ReadDir(tmp); len(n) != 0 {
		t.Errorf("temporary files left behind: %d", len(n))
	}
}
