package sqlite

import (
	"database/sql"
	"time"
)

type sqlTx = sql.Tx

var storetestT0 = time.Date(2026, 8, 17, 13, 0, 0, 0, time.UTC)
