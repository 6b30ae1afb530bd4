"""Running the pipeline on this machine: LocalDagRunner/BeamDagRunner, the demo, Beam's portable
runner, console output.
"""
