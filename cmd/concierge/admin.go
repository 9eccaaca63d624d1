package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"

	"concierge/account"
	"concierge/db"
)

func migrateCmd(ctx context.Context, args []string) error {
	c, fs, err := parseConfigWith("migrate", args, func(fs *flag.FlagSet) { fs.Bool("status", false, "list migrations and whether they are applied") })
	if err != nil {
		return err
	}
	setupLogger(c)
	d, err := db.Open(ctx, c.DatabaseURL, c.DataDir)
	if err != nil {
		return err
	}
	defer d.Close()
	if fs.Lookup("status").Value.String() == "true" {
		states, err := d.MigrationStatus(ctx)
		if err != nil {
			return err
		}
		for _, s := range states {
			state := "pending"
			if s.Applied {
				state = "applied " + s.AppliedAt.Format("2006-01-02 15:04:05")
			}
			fmt.Printf("%d  %-30s %s\n", s.Version, s.Name, state)
		}
		return nil
	}
	if err := d.Migrate(ctx); err != nil {
		return err
	}
	fmt.Println("database is up to date")
	return nil
}

func superadminCmd(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] != "create" {
		return errors.New("usage: concierge superadmin create --username NAME --password PASS [--email EMAIL] [--name FULL_NAME]")
	}
	var username, password, email, fullName string
	c, fs, err := parseConfigWith("superadmin create", args[1:], func(fs *flag.FlagSet) {
		fs.StringVar(&username, "username", "", "username (required)")
		fs.StringVar(&password, "password", os.Getenv("SUPERADMIN_PASSWORD"), "password, 8 to 256 characters (or env SUPERADMIN_PASSWORD)")
		fs.StringVar(&email, "email", "", "email (default USERNAME@superadmin.local)")
		fs.StringVar(&fullName, "name", "", "full name")
	})
	if err != nil {
		return err
	}
	_ = fs
	if username == "" || password == "" {
		return errors.New("--username and --password are required")
	}
	setupLogger(c)
	d, err := db.Open(ctx, c.DatabaseURL, c.DataDir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Migrate(ctx); err != nil {
		return err
	}
	a, err := account.CreateSuperAdmin(ctx, d.Client, username, email, password, fullName)
	if err != nil {
		return err
	}
	fmt.Printf("super admin %q created (id %s)\n", a.Username, a.ID)
	return nil
}
