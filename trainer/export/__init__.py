"""Export: the serving SavedModel (image bytes in), slim's inference GraphDef, frozen graphs, TFLite, video nets."""
