package db

import (
	"context"
	"database/sql"
	"errors"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
)

// Rows that ent reads or writes in a transaction keep the transaction's
// driver, and ent uses it for the edges loaded from them later: the
// fields of a mutation's answer (sendMessage { conversation { visitor } }),
// resolved once the mutation's transaction has committed, failed with
// sql.ErrTxDone. Here a statement that finds its transaction ended runs
// outside it instead: nothing ran, and the transaction is over.

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

// lateTx runs statements on its transaction, and after it on base.
type lateTx struct {
	dialect.Tx
	base dialect.ExecQuerier
}

func (t *lateTx) Exec(ctx context.Context, query string, args, v any) error {
	return afterTx(t.Tx.Exec(ctx, query, args, v), func() error { return t.base.Exec(ctx, query, args, v) })
}

func (t *lateTx) Query(ctx context.Context, query string, args, v any) error {
	return afterTx(t.Tx.Query(ctx, query, args, v), func() error { return t.base.Query(ctx, query, args, v) })
}

// afterTx runs again outside the transaction what failed because the
// transaction had ended.
func afterTx(err error, outside func() error) error {
	if errors.Is(err, sql.ErrTxDone) {
		return outside()
	}
	return err
}
