package sandbox_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/omnilink/omnilink/internal/sandbox"
)

func TestInProcessTransport(t *testing.T) {
	w, err := sandbox.New(sandbox.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Transport: w.InProcessTransport("/sandbox/api")}
	res, err := c.Get("http://omnilink.invalid/sandbox/api/graph/v25.0/oauth/access_token?grant_type=client_credentials&client_id=" +
		sandbox.DefaultAppID + "&client_secret=" + sandbox.DefaultAppSecret)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(res.Body).Decode(&tok); err != nil || res.StatusCode != http.StatusOK || tok.AccessToken != w.AppAccessToken() {
		t.Fatalf("client_credentials in process: %d %+v %v", res.StatusCode, tok, err)
	}
	if _, err := c.Get("http://omnilink.invalid/webhooks/meta"); err == nil || !strings.Contains(err.Error(), "outside") {
		t.Errorf("a request outside the mount: %v", err)
	}
}
