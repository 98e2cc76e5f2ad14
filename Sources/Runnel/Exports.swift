// Runnel's public API speaks GRDB's types (`Database` in a sample data set's `apply`, the
// connections `Store` hands out for business writes), so an application that imports Runnel
// has them without declaring GRDB itself.
@_exported import GRDB
