package handlers_test

import (
	"os"
	"testing"

	"github.com/omnilink/omnilink/internal/testutil"
)

func TestMain(m *testing.M) { os.Exit(testutil.Main(m)) }
