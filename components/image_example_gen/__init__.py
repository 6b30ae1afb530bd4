"""Image ingestion: sources → slim-format tf.Examples, as a TFX ExampleGen and for `tfslim convert`.

Import the pieces you need (the component pulls in TFX):
  components.image_example_gen.component.ImageExampleGen   the TFX component
  schemas.labels                      labels.txt / rejects.jsonl helpers
  ingestion.transforms                  the Beam PTransforms
"""
