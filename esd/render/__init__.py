"""Turn results into files: the weekly digests and run.json (`digest`), the
segmentation report as Markdown and JSON (`segmentation`) and as one self-contained
HTML page (`segmentation_html`). Rendering reads models and writes text; it never does
I/O beyond reading templates."""
