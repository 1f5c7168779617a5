package health

import (
	"errors"
	"fmt"
	"strings"

	"github.com/omnilink/omnilink/internal/line"
	"github.com/omnilink/omnilink/internal/meta"
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

// Classify sorts a platform call's error for a channel on platform p.
func Classify(p models.Platform, err error) Classification {
	if err == nil {
		return Classification{Outcome: OutcomeOK}
	}
	if p == models.LINE {
		return classifyLINE(line.Classify(err))
	}
	return classifyMeta(meta.Classify(err))
}

func classifyMeta(c meta.Classification) Classification {
	switch c.Class {
	case meta.ClassNone:
		return Classification{Outcome: OutcomeOK}
	case meta.ClassAuthBroken:
		return Classification{Outcome: OutcomeBroken, Cause: metaCause(c.Cause)}
	case meta.ClassTransient:
		if c.Cause == meta.CauseRateLimited {
			return Classification{Outcome: OutcomeRateLimited}
		}
		return Classification{Outcome: OutcomeTransient}
	case meta.ClassMessagingWindow, meta.ClassRecipientUnavailable:
		return Classification{Outcome: OutcomeIrrelevant}
	}
	return Classification{Outcome: OutcomeOther}
}

func metaCause(c meta.Cause) models.HealthCause {
	switch c {
	case meta.CausePasswordChanged:
		return models.CausePasswordChanged
	case meta.CauseCheckpoint:
		return models.CauseCheckpoint
	case meta.CauseExpired:
		return models.CauseTokenExpired
	case meta.CauseAppRemoved:
		return models.CauseAppRemoved
	case meta.CausePermissionRemoved:
		return models.CausePermissionRemoved
	case meta.CauseAccountGone:
		return models.CauseAccountGone
	}
	return models.CauseTokenInvalid
}

func classifyLINE(c line.Classification) Classification {
	switch c.Class {
	case line.ClassNone:
		return Classification{Outcome: OutcomeOK}
	case line.ClassAuthBroken:
		switch c.Cause {
		case line.CausePermissionRemoved:
			return Classification{Outcome: OutcomeBroken, Cause: models.CausePermissionRemoved}
		}
		return Classification{Outcome: OutcomeBroken, Cause: models.CauseTokenInvalid}
	case line.ClassTransient:
		if c.Cause == line.CauseRateLimited || c.Cause == line.CauseMonthlyQuota {
			return Classification{Outcome: OutcomeRateLimited}
		}
		return Classification{Outcome: OutcomeTransient}
	}
	return Classification{Outcome: OutcomeOther}
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
