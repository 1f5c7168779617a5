package channels

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/omnilink/omnilink/internal/apperr"
	"github.com/omnilink/omnilink/models"
)

// ErrChannelBroken matches (errors.Is) every refusal to send through a channel whose connection
// is broken; errors.As with *BrokenError gives its cause.
var ErrChannelBroken = errors.New("channels: the channel's connection is broken and needs reauthorising")

// ErrChannelDisconnected matches refusals to send through a disconnected channel.
var ErrChannelDisconnected = errors.New("channels: the channel is disconnected")

// BrokenError says which channel refused a send and why.
type BrokenError struct {
	ChannelID int64
	Cause     models.HealthCause
}

// Error describes the refusal for logs.
func (e *BrokenError) Error() string {
	return fmt.Sprintf("channels: channel %d is broken (%s) and needs reauthorising", e.ChannelID, e.Cause)
}

// Is makes errors.Is(err, ErrChannelBroken) hold.
func (e *BrokenError) Is(target error) bool { return target == ErrChannelBroken }

// Guard tells a sender up front whether ch can be used: nil for a working channel, otherwise a
// typed error whose message explains why (the cause, in the user's language) and that an admin
// must reauthorise it. Senders call it before every platform call, so a broken channel is
// refused with that explanation instead of failing at the platform.
func Guard(ch *models.Channel) error {
	if ch == nil {
		return apperr.ErrNotFound
	}
	name := ch.DisplayName
	if name == "" {
		name = ch.Username
	}
	switch ch.Status {
	case models.ChannelInvalid:
		cause := models.HealthCause(ch.StatusCause).OrInvalid()
		return &apperr.Error{
			Status: http.StatusConflict,
			Key:    "health.refused." + string(cause),
			Args:   map[string]any{"Channel": name},
			Err:    &BrokenError{ChannelID: ch.ID, Cause: cause},
		}
	case models.ChannelDisconnected:
		return &apperr.Error{
			Status: http.StatusConflict,
			Key:    "health.refused.disconnected",
			Args:   map[string]any{"Channel": name},
			Err:    ErrChannelDisconnected,
		}
	}
	return nil
}
