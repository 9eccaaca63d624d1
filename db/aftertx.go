package db

import (
	"context"
	"database/sql"
	"errors"
	"sync/atomic"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
)

// Rows that ent reads or writes in a transaction keep the transaction's
// driver, and ent uses it for the edges loaded from them later: the
// fields of a mutation's answer (sendMessage { conversation { visitor } }),
// resolved once the mutation's transaction has committed, failed with
// sql.ErrTxDone. Here a statement that finds its transaction ended by a
// commit or a rollback runs outside it instead: nothing ran, and the
// transaction's work is over. A transaction ended because its context was
// done is not such an end: its statements keep failing, so that nothing
// meant for it is ever written outside it.

// lateDriver is the driver of DB.Client: its transactions are lateTxs.
type lateDriver struct{ *entsql.Driver }

func (d lateDriver) Tx(ctx context.Context) (dialect.Tx, error) {
	return d.BeginTx(ctx, nil)
}

func (d lateDriver) BeginTx(ctx context.Context, opts *sql.TxOptions) (dialect.Tx, error) {
	tx, err := d.Driver.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	return &lateTx{Tx: tx, base: d.Driver}, nil
}

// lateTx runs statements on its transaction until Commit or Rollback, and
// then on base.
type lateTx struct {
	dialect.Tx
	base  dialect.ExecQuerier
	ended atomic.Bool
}

func (t *lateTx) Exec(ctx context.Context, query string, args, v any) error {
	return afterTx(t.Tx.Exec(ctx, query, args, v), t.ended.Load(), func() error { return t.base.Exec(ctx, query, args, v) })
}

func (t *lateTx) Query(ctx context.Context, query string, args, v any) error {
	return afterTx(t.Tx.Query(ctx, query, args, v), t.ended.Load(), func() error { return t.base.Query(ctx, query, args, v) })
}

func (t *lateTx) Commit() error {
	defer t.ended.Store(true)
	return t.Tx.Commit()
}

func (t *lateTx) Rollback() error {
	defer t.ended.Store(true)
	return t.Tx.Rollback()
}

// afterTx runs again outside the transaction what failed because the
// transaction had ended, if it ended by commit or rollback.
func afterTx(err error, ended bool, outside func() error) error {
	if ended && errors.Is(err, sql.ErrTxDone) {
		return outside()
	}
	return err
}
