"""The use cases: one module per command, each taking typed settings and returning a
typed result that carries its own exit code. Nothing here prints; `esd.cli` turns a
result into output and an exit code.

    digest     esd dry-run, esd run (build every CSM's digest; write or deliver it)
    coverage   esd coverage (pre-flight: coverage, source health, cost estimate)
    segment    esd segment (the segmentation model of seed 002)
    evaluate   esd eval (score an extractor on a labeled gold folder)
    check      esd check (lint the reference files and inputs)
    pull       esd pull (the live sources as input files)
    init       esd init (scaffold a team's folder)
    outcome    esd outcome (record what became of a signal, by id or from a CSV;
               outcome_csv reads the ids, dates and CSV rows people write)
    history    esd history (past runs from the state store)

`settings` holds the options every command shares; `inputs` reads reference files,
input files or live sources and picks the extractor.
"""
