package db

import (
	"context"
	"fmt"

	"concierge/ent"
)

// WithTx runs fn on an ent client bound to one transaction of client,
// committed when fn returns nil and rolled back otherwise (also on panic).
// Privacy rules apply inside it as outside: they read the context's viewer.
func WithTx(ctx context.Context, client *ent.Client, fn func(tx *ent.Client) error) error {
	tx, err := client.Tx(ctx)
	if err != nil {
		return err
	}
	defer func() {
		if v := recover(); v != nil {
			_ = tx.Rollback()
			panic(v)
		}
	}()
	if err := fn(tx.Client()); err != nil {
		if rerr := tx.Rollback(); rerr != nil {
			err = fmt.Errorf("%w (rollback: %v)", err, rerr)
		}
		return err
	}
	return tx.Commit()
}
