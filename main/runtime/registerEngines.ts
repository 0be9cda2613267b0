/** Registers the engine of every pack kind. Imported once, by the worker. */
