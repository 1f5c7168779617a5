package handlers_test

import (
	"net/url"

	"github.com/omnilink/omnilink/internal/testutil"
)

// handMade posts what no page offers the signed-in user (another team's id, an action the
// role may not take, a forbidden value), carrying the user's own valid CSRF token, so only the
// rule under test can refuse it. Forms a page does offer are submitted with Form(…).Submit().
func handMade(c *testutil.Client, path string, v url.Values) *testutil.Response {
	if v == nil {
		v = url.Values{}
	}
	v.Set("_csrf", c.Get("/").Form("form[action=/logout]").Get("_csrf"))
	return c.Post(path, v)
}
