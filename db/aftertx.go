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
	t := &lateTx{tx: tx}
	t.late = late{tx: tx, base: d.Driver, over: t.ended.Load}
	return t, nil
}

// lateTx runs statements on its transaction until Commit or Rollback, and
// then outside it.
type lateTx struct {
	late
	tx    dialect.Tx
	ended atomic.Bool
}

func (t *lateTx) Commit() error {
	defer t.ended.Store(true)
	return t.tx.Commit()
}

func (t *lateTx) Rollback() error {
	defer t.ended.Store(true)
	return t.tx.Rollback()
}

// late runs statements on tx, and again on base those that tx refused as
// ended once over reports that it ended by a commit or a rollback.
type late struct {
	tx, base dialect.ExecQuerier
	over     func() bool
}

func (l late) Exec(ctx context.Context, query string, args, v any) error {
	err := l.tx.Exec(ctx, query, args, v)
	if errors.Is(err, sql.ErrTxDone) && l.over() {
		return l.base.Exec(ctx, query, args, v)
	}
	return err
}

func (l late) Query(ctx context.Context, query string, args, v any) error {
	err := l.tx.Query(ctx, query, args, v)
	if errors.Is(err, sql.ErrTxDone) && l.over() {
		return l.base.Query(ctx, query, args, v)
	}
	return err
}
