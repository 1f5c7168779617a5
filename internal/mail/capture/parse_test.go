package capture

import (
	"strings"
	"testing"
)

func crlf(s string) []byte { return []byte(strings.ReplaceAll(s, "\n", "\r\n")) }

func TestParseNestedMultipartWithMixedEncodings(t *testing.T) {
	raw := crlf(`From: =?UTF-8?B?T21uaWxpbmsg6YCa55+l?= <alerts@omnilink.test>
To: ming@example.tw
Subject: =?UTF-8?B?44CQ6K2m5ZGK44CR?= =?UTF-8?Q?=E9=A0=BB=E9=81=93?=
Message-ID: <abc@omnilink.test>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="outer"

--outer
Content-Type: multipart/alternative; boundary=inner

--inner
Content-Type: text/plain; charset=UTF-8
Content-Transfer-Encoding: quoted-printable

=E6=82=A8=E5=A5=BD=EF=BC=8C=
=E9=A0=BB=E9=81=93
second line
--inner
Content-Type: text/html; charset=UTF-8
Content-Transfer-Encoding: base64

PHA+5oKo5aW9PC9wPg==
--inner--
--outer
Content-Type: text/plain; charset=UTF-8
Content-Disposition: attachment; filename="log.txt"

not the body
--outer--
`)
	c := parse(raw)
	if c.ParseError != "" {
		t.Fatalf("ParseError: %s", c.ParseError)
	}
	if c.Subject != "【警告】頻道" {
		t.Errorf("Subject = %q", c.Subject)
	}
	if c.Text != "您好，頻道\nsecond line" {
		t.Errorf("Text = %q", c.Text)
	}
	if c.HTML != "<p>您好</p>" {
		t.Errorf("HTML = %q", c.HTML)
	}
	if got := c.Headers.Get("Message-Id"); got != "<abc@omnilink.test>" {
		t.Errorf("Message-Id header = %q", got)
	}
	if string(c.Raw) != string(raw) {
		t.Error("Raw differs from the input")
	}
}

func TestParseLegacyCharsets(t *testing.T) {
	// "頻道" in Big5 is 0xC0 0x57 0xB9 0x44.
	raw := crlf("Subject: =?Big5?Q?=C0W=B9D?=\nContent-Type: text/plain; charset=Big5\nContent-Transfer-Encoding: quoted-printable\n\n=C0W=B9D\n")
	c := parse(raw)
	if c.ParseError != "" {
		t.Fatalf("ParseError: %s", c.ParseError)
	}
	if c.Subject != "頻道" || c.Text != "頻道\n" {
		t.Errorf("Subject %q, Text %q; want 頻道", c.Subject, c.Text)
	}
}

func TestParseSinglePartDefaults(t *testing.T) {
	c := parse(crlf("Subject: plain\n\nhello\nworld\n"))
	if c.ParseError != "" || c.Subject != "plain" || c.Text != "hello\nworld\n" || c.HTML != "" {
		t.Errorf("got %+v", c)
	}
	c = parse(crlf("Subject: html\nContent-Type: text/html\n\n<b>x</b>"))
	if c.HTML != "<b>x</b>" || c.Text != "" {
		t.Errorf("Text %q HTML %q", c.Text, c.HTML)
	}
}

func TestParseKeepsBrokenMessages(t *testing.T) {
	cases := map[string]string{
		"no header end":    "this is not a message",
		"no boundary":      "Subject: x\nContent-Type: multipart/alternative\n\nbody",
		"bad encoding":     "Subject: x\nContent-Transfer-Encoding: uuencode\n\nbody",
		"bad base64":       "Subject: x\nContent-Transfer-Encoding: base64\n\n!!!!",
		"unknown charset":  "Subject: x\nContent-Type: text/plain; charset=klingon\n\nbody",
		"bad content type": "Subject: x\nContent-Type: ;;;\n\nbody",
	}
	for name, msg := range cases {
		t.Run(name, func(t *testing.T) {
			raw := crlf(msg)
			c := parse(raw)
			if c.ParseError == "" {
				t.Errorf("no ParseError for %q", msg)
			}
			if string(c.Raw) != string(raw) {
				t.Error("Raw was not kept")
			}
		})
	}
}

func TestParseLimitsNesting(t *testing.T) {
	var b strings.Builder
	b.WriteString("Subject: deep\n")
	for i := range maxDepth + 3 {
		b.WriteString("Content-Type: multipart/mixed; boundary=b" + string(rune('a'+i)) + "\n\n--b" + string(rune('a'+i)) + "\n")
	}
	b.WriteString("Content-Type: text/plain\n\ndeep body\n")
	c := parse(crlf(b.String()))
	if !strings.Contains(c.ParseError, "nesting") {
		t.Errorf("ParseError = %q, want a nesting error", c.ParseError)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("Subject: x\r\n\r\nbody"))
	f.Add(crlf("Subject: =?UTF-8?B?5ZGK?=\nContent-Type: multipart/alternative; boundary=b\n\n--b\nContent-Type: text/plain\nContent-Transfer-Encoding: base64\n\naGk=\n--b--\n"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		c := parse(raw)
		if string(c.Raw) != string(raw) {
			t.Fatal("Raw was not kept")
		}
	})
}
