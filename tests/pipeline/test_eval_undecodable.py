"""The Evaluator's own TFMA config on eval records that include one TF cannot decode:
the run completes, the metrics are those of the decodable records, the skip is counted."""

import pytest
import tensorflow as tf
import tensorflow_model_analysis as tfma
import tf_keras

from ingestion.formats import example as example_lib
from ingestion.formats import image_codec
from pipeline.configs import PipelineConfig
from pipeline.pipeline import eval_config
from tests.ingestion.hostile import corpus
from tests.pipeline import helpers
from trainer.export import saved_model as export
from trainer import nets
from serving import signatures

pytestmark = pytest.mark.slow


def _example(data: bytes, label: int, name: str) -> bytes:
    return example_lib.encode_example(image_codec.normalize(data), label, str(label), name)


def test_evaluator_config_skips_an_undecodable_record_with_weight_zero(tmp_path):
    tf_keras.utils.set_random_seed(3)
    net = nets.create_model("lenet", num_classes=10)
    net.ensure_built(28, 1)
    model_dir = export.export_saved_model(net, helpers.LENET_GRAY, [str(i) for i in range(10)],
                                          str(tmp_path / "model"))
    loaded = tf.saved_model.load(model_dir)
    pngs = [helpers.encode(pixels) for pixels, _ in helpers.digit_images(8, start=1600)]
    no_dqt = corpus.jpeg_without_quantization_tables()
    # Labels chosen from the (untrained) model's own answers: 5 of the 8 good records are
    # right, and the undecodable one is labelled with what its stand-in image scores, so
    # counting it would move top-1 from 5/8 to 6/9.
    predicted = loaded.signatures[signatures.SERVING_EXAMPLES](examples=tf.constant(
        [_example(png, 0, f"{i}.png") for i, png in enumerate(pngs)]))["classes"].numpy()
    labels = [int(c) if i < 5 else (int(c) + 1) % 10 for i, c in enumerate(predicted)]
    stand_in = loaded.signatures[signatures.EVAL_EXAMPLES](
        examples=tf.constant([_example(no_dqt, 0, "x.jpg")]))["classes"].numpy()[0]
    records = [_example(png, label, f"{label}/{i}.png") for i, (png, label) in enumerate(zip(pngs, labels))]
    records.insert(3, _example(no_dqt, int(stand_in), f"{stand_in}/no-dqt.jpg"))
    data = str(tmp_path / "eval.tfrecord")
    with tf.io.TFRecordWriter(data) as writer:
        for record in records:
            writer.write(record)

    # As TFX's Evaluator executor sets it up, with a blessed baseline (here the same model),
    # so both models' example weights come from their own eval_decodable.
    config = tfma.utils.update_eval_config_with_defaults(
        eval_config(PipelineConfig(accuracy_threshold=0.5)), has_baseline=True, rubber_stamp=True)
    models = [tfma.default_eval_shared_model(model_dir, model_name=spec.name, eval_config=config)
              for spec in config.model_specs]
    output = str(tmp_path / "evaluation")
    tfma.run_model_analysis(eval_shared_model=models, eval_config=config, data_location=data,
                            output_path=output)

    for model_name in (tfma.CANDIDATE_KEY, tfma.BASELINE_KEY):
        result = tfma.load_eval_result(output, model_name=model_name)
        overall = dict(result.slicing_metrics)[()][""][""]
        assert overall["example_count"]["doubleValue"] == 9
        assert overall["weighted_example_count"]["doubleValue"] == 8  # one record skipped
        assert overall["sparse_categorical_accuracy"]["doubleValue"] == pytest.approx(5 / 8)
        top5 = overall["top_5_accuracy"]["doubleValue"] * 8
        assert top5 == pytest.approx(round(top5))  # a count of the 8, not of 9
        (_, plots), = [(k, p) for k, p in result.plots if k == ()]
        entries = plots[""][""]["multiClassConfusionMatrixAtThresholds"]["matrices"][0]["entries"]
        assert sum(e.get("numWeightedExamples", 0) for e in entries) == 8
    assert tfma.load_validation_result(output).validation_ok  # 5/8 clears the 0.5 bar, no change
