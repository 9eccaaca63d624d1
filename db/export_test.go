package db

// Internals for the tests of package db_test, which can reach PostgreSQL
// through dbtest.
var (
	OpenPostgresTraced       = openPostgres
	CheckStmtCacheInterfaces = checkStmtCacheInterfaces
	CountEvents              = count
)
