"""A static HTML report of one run that a person can read (one file, no server).

    from report import ReportInputs, write_report
    summary = write_report(ReportInputs(...), "outputs/report.html")

Sections: held-out top-1/top-5 against the gate and the baseline, the confusion
matrix, per-class precision and recall, the worst misclassified images, training
curves (loss, accuracy, learning rate from the Trainer's TensorBoard events), the
ingestion summary and rejects, and ExampleValidator's anomalies. Figures are drawn
with matplotlib and embedded as PNG, so the report is one self-contained file
(what Kubeflow's HTML artifact viewer shows).
"""
from report.build import ReportInputs, ReportSummary, write_report

__all__ = ["ReportInputs", "ReportSummary", "write_report"]
