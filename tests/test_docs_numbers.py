"""One number, one source: a metafile result whose model names a ``README`` page is quoted
there as the metafile gives it (the page's tables are copies of the metafile, tested here)."""
import glob
import os
import os.path as osp
import re

import pytest
import yaml

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


def quoted_results():
    for meta in sorted(glob.glob(osp.join(ROOT, 'configs', '*', 'metafile.yml'))):
        with open(meta) as f:
            for model in yaml.safe_load(f)['Models']:
                page = model.get('README')
                for result in model.get('Results', []) if page else []:
                    for name, value in result['Metrics'].items():
                        yield model['Name'], page, f"{result['Dataset']}: {name}", value


def test_every_metafile_result_with_a_page_is_quoted_on_it():
    results = list(quoted_results())
    assert results, 'no metafile result names its page'
    missing = []
    for model, page, metric, value in results:
        with open(osp.join(ROOT, page)) as f:
            numbers = set(re.findall(r'(?<![\d.])\d+\.\d+(?![\d.])', f.read()))
        if f'{value:.1f}' not in numbers:
            missing.append(f'{model} {metric} {value} not in {page}')
    assert not missing, missing


def test_multitask_page_quotes_the_single_task_run_it_compares_with():
    """The single-task numbers of the multi-task comparison come from one run, kept in
    ``docs/runs/multitask/single_task_models.json``; its table rows quote that file."""
    import json
    with open(osp.join(ROOT, 'docs/runs/multitask/single_task_models.json')) as f:
        models = json.load(f)['models']
    with open(osp.join(ROOT, 'docs/multitask.md')) as f:
        rows = [line for line in f if line.startswith('| ')]
    for model in models.values():
        row = next((r for r in rows if f"`{model['config']}`" in r), None)
        assert row is not None, f"docs/multitask.md has no table row for {model['config']}"
        numbers = re.findall(r'(?<![\d.])\d+\.\d+(?![\d.])', row)
        values = [f'{v:.1f}' for v in model.values() if isinstance(v, float)]
        assert numbers == values, (model['config'], numbers, values)


def _kept_test_runs(folder, names):
    """The metrics of the ``test_<name>.json`` runs kept in ``docs/runs/multitask/<folder>``."""
    import json
    runs = {}
    for name in names:
        with open(osp.join(ROOT, 'docs/runs/multitask', folder, f'test_{name}.json')) as f:
            runs[name] = json.load(f)
    return runs


def _multitask_row(start):
    with open(osp.join(ROOT, 'docs', 'multitask.md')) as f:
        return next(line for line in f if line.startswith(start))


def test_multitask_12_epoch_row_is_its_kept_test_runs():
    """The 12-epoch row of docs/multitask.md quotes the four test runs kept in
    ``docs/runs/multitask/synthetic_12e`` (mmdet's and mmpose's 0-1 AP in percent)."""
    runs = _kept_test_runs('synthetic_12e', ('given_boxes_flip', 'given_boxes_noflip',
                                             'own_detections_flip', 'own_detections_noflip'))
    own = runs['own_detections_flip']
    expected = ['1500'] + [f"{100 * runs[n]['pose/AP']:.1f}" for n in runs] + [
        f"{own['parse/mIoU']:.1f}", f"{100 * own['det/bbox_mAP']:.1f}",
        f"{100 * own['det/segm_mAP']:.1f}"]
    row = _multitask_row('| multi-task, 12 epochs |')
    assert re.findall(r'\d+(?:\.\d+)?', row.split('|', 2)[2]) == expected


# the rows of docs/multitask.md's full-schedule ablation table and their kept runs
MULTITASK_ABLATIONS = {
    '| no mask channel |': 'no_mask_channel',
    '| RoI convs without dilation |': 'no_dilation',
    '| no rotation jitter |': 'no_rotation',
    '| the first head: all of them out': 'first_head',
}


@pytest.mark.parametrize('row', MULTITASK_ABLATIONS)
def test_multitask_ablation_row_is_its_kept_test_runs(row):
    """An ablation row of docs/multitask.md quotes the two test runs kept in
    ``docs/runs/multitask/<folder>``: keypoint AP on given boxes and on its own detections,
    box / mask AP, parsing mIoU."""
    runs = _kept_test_runs(MULTITASK_ABLATIONS[row], ('given_boxes_flip', 'own_detections_flip'))
    given, own = runs['given_boxes_flip'], runs['own_detections_flip']
    expected = [f'{v:.1f}' for v in (100 * given['pose/AP'], 100 * own['pose/AP'],
                                      100 * own['det/bbox_mAP'], 100 * own['det/segm_mAP'],
                                      own['parse/mIoU'])]
    line = _multitask_row(row)
    assert f'`{MULTITASK_ABLATIONS[row]}`' in line, 'the row names another folder'
    assert re.findall(r'\d+\.\d+', line.split('|', 2)[2]) == expected


def test_readme_quotes_no_result():
    """The README links to the pages; it holds no AP / mIoU of its own."""
    with open(osp.join(ROOT, 'README.md')) as f:
        text = f.read()
    assert len(text.encode()) < 10_000
    assert not re.search(r'\b(AP|mIoU)\b[^|\n]{0,12}\d+\.\d', text), 'a result in the README'


def test_readme_layout_names_every_room():
    """'Where things are' names every subpackage of mmhrnet/ and every module of utils/ and
    apis/ (a room added or renamed without the README fails here)."""
    with open(osp.join(ROOT, 'README.md')) as f:
        text = f.read()
    layout = text[text.index('## Where things are'):]
    pkg = osp.join(ROOT, 'mmhrnet')
    rooms = [d for d in sorted(os.listdir(pkg)) if osp.isfile(osp.join(pkg, d, '__init__.py'))]
    assert [r for r in rooms if f'`{r}/`' not in layout] == []
    for room in ('utils', 'apis'):
        modules = [m[:-3] for m in os.listdir(osp.join(pkg, room))
                   if m.endswith('.py') and m != '__init__.py']
        assert [m for m in modules if f'`{m}`' not in layout] == [], room


def test_benchmark_tables_are_their_kept_rows():
    """Each benchmark run kept in ``docs/runs/bench`` appears in ``docs/deploy.md`` as the
    benchmark formats it, and its chart is there."""
    import json

    from mmhrnet.analysis.one_pass_bench import format_rows
    from mmhrnet.analysis.pipeline_bench import format_table
    runs = sorted(glob.glob(osp.join(ROOT, 'docs', 'runs', 'bench', '*.json')))
    assert runs
    with open(osp.join(ROOT, 'docs', 'deploy.md')) as f:
        page = f.read()
    for run in runs:
        with open(run) as f:
            rows = json.load(f)
        table = (format_rows if osp.basename(run).startswith('one_pass') else format_table)(rows)
        assert table in page, run
        assert osp.relpath(run, ROOT) in page, run


def test_gpu_page_tables_are_the_kept_run():
    """docs/gpu.md's benchmark table is the kept output of the run, row for row, and its
    per-task step times are those of the kept training logs."""
    kept = osp.join(ROOT, 'docs', 'runs', 'gpu_h200')
    with open(osp.join(ROOT, 'docs', 'gpu.md')) as f:
        page = f.read()
    with open(osp.join(kept, 'bench.md')) as f:
        rows = [line for line in f.read().splitlines() if line.startswith('| ')]
    assert len(rows) == 14 and '\n'.join(rows) in page
    with open(osp.join(kept, 'summary.txt')) as f:
        summary = f.read()
    steps = re.findall(r'\[100/\d+\].*? time: ([0-9.]+)', summary)
    assert len(steps) == 4
    for task, step in zip(('pose', 'segmentation', 'Mask R-CNN', 'one-pass'), steps):
        assert re.search(rf'\| {task}[^|]*\| {float(step):.3f} \|', page), task
