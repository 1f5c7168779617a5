package platform

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"testing"
)

func TestTransportErrorsAreTransientNetworkTrouble(t *testing.T) {
	for _, err := range []error{
		context.DeadlineExceeded,
		fmt.Errorf("read: %w", io.ErrUnexpectedEOF),
		&url.Error{Op: "Get", URL: "https://graph.facebook.com/v25.0/me", Err: &net.OpError{Op: "dial", Err: errors.New("connection refused")}},
	} {
		c, ok := Transport(err)
		if !ok || c != (Classification{Class: ClassTransient, Cause: CauseNetwork}) {
			t.Errorf("%v: %v %v", err, c, ok)
		}
	}
	if _, ok := Transport(errors.New("meta: unexpected answer")); ok {
		t.Error("a plain error is not transport trouble")
	}
}

// The names are stored and logged; they must not change when values are added.
func TestNamesAreStable(t *testing.T) {
	for c, want := range map[Classification]string{
		{Class: ClassAuthBroken, Cause: CausePasswordChanged}: "auth_broken/password_changed",
		{Class: ClassAuthBroken, Cause: CauseRefused}:         "auth_broken/refused",
		{Class: ClassTransient, Cause: CauseMonthlyQuota}:     "transient/monthly_quota",
		{Class: ClassOther}: "other",
	} {
		if c.String() != want {
			t.Errorf("%v = %q, want %q", c, c.String(), want)
		}
	}
	for cause := CauseNone; cause <= CauseIDToken; cause++ {
		if _, ok := causeNames[cause]; !ok {
			t.Errorf("cause %d has no name", cause)
		}
	}
}
