package health

import (
	"errors"
	"fmt"
	"strings"

	"github.com/omnilink/omnilink/internal/line"
	"github.com/omnilink/omnilink/internal/meta"
	"github.com/omnilink/omnilink/internal/platform"
	"github.com/omnilink/omnilink/models"
)

// Outcome is how a single failed call counts towards a verdict.
type Outcome int

// Outcomes of classifying an error.
const (
	OutcomeOK          Outcome = iota // no error
	OutcomeBroken                     // the channel needs a person: re-authorise, re-grant, reconnect
	OutcomeTransient                  // try again later; never a reason to alert
	OutcomeRateLimited                // the platform asks us to slow down
	OutcomeIrrelevant                 // about one recipient or message, not the channel
	OutcomeOther                      // unexpected; recorded, but does not break the channel
)

// Classification is an error's meaning for the channel's health.
type Classification struct {
	Outcome Outcome
	Cause   models.HealthCause // set for OutcomeBroken
}

// Classify sorts a platform call's error for a channel on platform p: the platform's client
// sorts it into the shared taxonomy, which has one meaning for the channel's health.
func Classify(p models.Platform, err error) Classification {
	if err == nil {
		return Classification{Outcome: OutcomeOK}
	}
	if p == models.LINE {
		return fromPlatform(line.Classify(err))
	}
	return fromPlatform(meta.Classify(err))
}

func fromPlatform(c platform.Classification) Classification {
	switch c.Class {
	case platform.ClassNone:
		return Classification{Outcome: OutcomeOK}
	case platform.ClassAuthBroken:
		return Classification{Outcome: OutcomeBroken, Cause: healthCause(c.Cause)}
	case platform.ClassTransient:
		if c.Cause == platform.CauseRateLimited || c.Cause == platform.CauseMonthlyQuota {
			return Classification{Outcome: OutcomeRateLimited}
		}
		return Classification{Outcome: OutcomeTransient}
	case platform.ClassMessagingWindow, platform.ClassRecipientUnavailable:
		return Classification{Outcome: OutcomeIrrelevant}
	}
	return Classification{Outcome: OutcomeOther}
}

// healthCause names a broken channel's cause. A token refused without saying why (LINE's verify)
// reads as invalid here; the LINE check then decides expired or revoked from what it knows.
func healthCause(c platform.Cause) models.HealthCause {
	switch c {
	case platform.CausePasswordChanged:
		return models.CausePasswordChanged
	case platform.CauseCheckpoint:
		return models.CauseCheckpoint
	case platform.CauseExpired:
		return models.CauseTokenExpired
	case platform.CauseAppRemoved:
		return models.CauseAppRemoved
	case platform.CausePermissionRemoved:
		return models.CausePermissionRemoved
	case platform.CauseAccountGone:
		return models.CauseAccountGone
	}
	return models.CauseTokenInvalid
}

// describe renders an error for the detail column: platform codes and messages (already
// scrubbed of tokens by the clients), shortened.
func describe(step string, err error) string {
	var ge *meta.GraphError
	var le *line.APIError
	var s string
	switch {
	case errors.As(err, &ge):
		s = fmt.Sprintf("Graph %d", ge.Code)
		if ge.Subcode != 0 {
			s += fmt.Sprintf("/%d", ge.Subcode)
		}
		if ge.Message != "" {
			s += ": " + ge.Message
		}
	case errors.As(err, &le):
		s = fmt.Sprintf("LINE %d: %s", le.Status, le.Message)
	default:
		s = err.Error()
	}
	return clip(step+": "+s, 400)
}

func clip(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8Start(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }
