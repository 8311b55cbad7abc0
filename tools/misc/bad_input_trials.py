"""Reruns the bad-input trials of tools/infer.py, test.py, train.py, convert_weights.py and
deploy/export.py and counts each outcome: clean, unclear, silent or lost.

    python tools/misc/bad_input_trials.py [--work /tmp/trials] [--only infer,test,...]

Each trial runs a command as a user would (a subprocess) on a bad input, with files of an
earlier run in place, and is classed as:

- clean: an error was expected and came as exit status 1 (130 after SIGTERM), exactly one
  ``error:`` line naming the file, no traceback; or a result was expected and is correct;
- unclear: it failed, but with a traceback, several or no error lines, or a message that does
  not name the file;
- silent: exit status 0 where an error was expected, or a wrong result;
- lost: a file of the earlier run changed or disappeared, or a broken file was left (a 0-byte
  JSON, an unplayable video, a work dir of a failed test).

The models are random-weight checkpoints of the synthetic pose config (made once, seconds).
"""
import argparse
import hashlib
import json
import os
import os.path as osp
import shutil
import signal
import subprocess
import sys
import time

import cv2
import numpy as np
import torch

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
POSE_CFG = osp.join(ROOT, 'configs/pose/td-hm_hrnet-w18-small-v1_1xb16-10e_synthetic-people-'
                    '192x144.py')
ENV = dict(os.environ, OMP_NUM_THREADS='1', MKL_NUM_THREADS='1', PYTHONWARNINGS='ignore')


def snapshot(paths):
    """sha256 of every file under ``paths``."""
    out = {}
    for top in paths:
        files = [top] if osp.isfile(top) else [osp.join(r, n) for r, _, ns in os.walk(top)
                                                for n in ns]
        for path in files:
            with open(path, 'rb') as f:
                out[path] = hashlib.sha256(f.read()).hexdigest()
    return out


def make_inputs(work):
    """Models, images, a video and bbox files for the trials."""
    from mmhrnet.utils.build import build_model
    from mmhrnet.utils.checkpoint import DIGEST_KEY, checkpoint_digest
    os.makedirs(work, exist_ok=True)
    torch.manual_seed(0)
    model = build_model(POSE_CFG)
    ckpt = dict(state_dict=model.state_dict(), meta=dict(epoch=1, iter=1))
    ckpt['meta'][DIGEST_KEY] = checkpoint_digest(ckpt)
    good = osp.join(work, 'pose.pth')
    torch.save(ckpt, good)
    data = open(good, 'rb').read()
    with open(osp.join(work, 'truncated.pth'), 'wb') as f:
        f.write(data[:len(data) // 2])
    weight = ckpt['state_dict']['head.final_layer.weight'].numpy().tobytes()
    at = data.find(weight)
    changed = bytearray(data)
    changed[at:at + 64] = (np.frombuffer(weight[:64], np.float32) + 1).tobytes()
    with open(osp.join(work, 'overwritten.pth'), 'wb') as f:
        f.write(bytes(changed))
    nan = dict(ckpt, state_dict={k: v * float('nan') if v.is_floating_point() else v
                                 for k, v in ckpt['state_dict'].items()}, meta={})
    torch.save(nan, osp.join(work, 'nan.pth'))
    with open(osp.join(work, 'garbage.pth'), 'wb') as f:
        f.write(b'not a checkpoint' * 100)
    rng = np.random.default_rng(0)
    image = cv2.GaussianBlur((rng.random((120, 160, 3)) * 255).astype(np.uint8), (9, 9), 0)
    for sub in ('A', 'B'):
        os.makedirs(osp.join(work, sub), exist_ok=True)
        cv2.imwrite(osp.join(work, sub, 'img.jpg'), image)
    cv2.imwrite(osp.join(work, 'x.jpg'), image)
    cv2.imwrite(osp.join(work, 'x.png'), image[::-1].copy())
    cv2.imwrite(osp.join(work, '000000000001.jpg'), image)
    jpeg = open(osp.join(work, 'x.jpg'), 'rb').read()
    with open(osp.join(work, 'cut.jpg'), 'wb') as f:
        f.write(jpeg[:len(jpeg) // 2])
    open(osp.join(work, 'empty.jpg'), 'wb').close()
    with open(osp.join(work, 'text.jpg'), 'w') as f:
        f.write('not an image\n')
    writer = cv2.VideoWriter(osp.join(work, 'clip.avi'), cv2.VideoWriter_fourcc(*'MJPG'), 10.,
                             (160, 120))
    for i in range(300):
        writer.write(np.roll(image, i, axis=1))
    writer.release()
    box = dict(image_id=1, category_id=1, bbox=[10, 10, 60, 90], score=0.9)
    for name, entries in dict(nan=[dict(box, bbox=[float('nan'), 10, 60, 90])],
                              negative=[dict(box, bbox=[10, 10, -60, 90])],
                              outside=[dict(box, bbox=[300, 200, 200, 300])],
                              unknown=[dict(box, image_id=99)]).items():
        with open(osp.join(work, f'boxes_{name}.json'), 'w') as f:
            f.write(json.dumps(entries))  # NaN written as the NaN token, as json.dumps does
    with open(osp.join(work, 'boxes_truncated.json'), 'w') as f:
        f.write(json.dumps([box, box])[:30])
    return dict(work=work, good=good)


def earlier_export(work, name):
    """A copy, ``out_<name>``, of a good export of the random pose model (ONNX Runtime and
    OpenVINO fp32; made once): what a failed export into it must leave as it was."""
    first = osp.join(work, 'export_first')
    if not osp.exists(first):
        export = [sys.executable, osp.join(ROOT, 'tools/deploy/export.py'), POSE_CFG,
                  osp.join(work, 'pose.pth'), '--out', first]
        for backend in ('onnxruntime', 'openvino'):
            subprocess.run(export + ['--backend', backend], env=ENV, cwd=ROOT, check=True,
                           capture_output=True)
    out = osp.join(work, f'out_{name}')
    shutil.rmtree(out, ignore_errors=True)
    shutil.copytree(first, out)
    return out


def reexported(out_dir, checkpoint):
    """The folder describes ``checkpoint`` and holds no model of another one."""
    from mmhrnet.deploy import read_meta
    from mmhrnet.deploy.folder import file_sha256
    meta = read_meta(out_dir)
    stale = [n for n in os.listdir(out_dir) if n.endswith('_ov.xml')] and \
        'openvino' not in meta['models']
    return meta['checkpoint_sha256'] == file_sha256(checkpoint) and not stale


def earlier_run(work, name, files=True):
    """An output folder holding files of an earlier run (what must survive a failed run);
    ``files=False``: an empty one (a run that succeeds replaces its own names, as it should)."""
    out = osp.join(work, f'out_{name}')
    shutil.rmtree(out, ignore_errors=True)
    if not files:
        return out
    for sub, files in (('predictions', ('img.json', 'x.json', '000000000001.json', 'clip.json')),
                       ('vis', ('img.jpg', 'clip.mp4'))):
        os.makedirs(osp.join(out, sub))
        for fname in files:
            with open(osp.join(out, sub, fname), 'w') as f:
                f.write(f'earlier {fname}')
    return out


def trials(inputs):
    w, good = inputs['work'], inputs['good']
    infer = [sys.executable, osp.join(ROOT, 'tools/infer.py')]
    pose = ['--pose', POSE_CFG, good]
    test = [sys.executable, osp.join(ROOT, 'tools/test.py')]
    train = [sys.executable, osp.join(ROOT, 'tools/train.py')]
    convert = [sys.executable, osp.join(ROOT, 'tools/misc/convert_weights.py')]
    export = [sys.executable, osp.join(ROOT, 'tools/deploy/export.py')]
    j = lambda *p: osp.join(w, *p)  # noqa: E731
    out = lambda name, files=True: ['--out-dir', earlier_run(w, name, files)]  # noqa: E731
    work_dir = j('work_dir')

    def reexport_dir():
        """A good export copied to a name the lost-file check does not guard (this run is
        meant to replace it), and a second checkpoint to export over it."""
        again = j('exp_again')
        shutil.rmtree(again, ignore_errors=True)
        shutil.copytree(earlier_export(w, 'exp_src'), again)
        state = torch.load(good, map_location='cpu', weights_only=False)
        state['state_dict'] = {k: v + 1 if v.is_floating_point() else v
                               for k, v in state['state_dict'].items()}
        state['meta'] = {}
        torch.save(state, j('other.pth'))
        return again

    def cut_meta():
        folder = earlier_export(w, 'exp_meta')
        with open(osp.join(folder, 'deploy.json'), 'r+') as f:
            f.truncate(len(f.read()) // 2)
        return folder

    def two_files(out_dir, names):
        found = sorted(os.listdir(osp.join(out_dir, 'predictions')))
        return all(n in found for n in names) and len(found) == 2

    return [
        # name, argv (built lazily), expected error file or None, check of a result
        ('infer same stem in two folders', 'infer', lambda: infer + [j('A/img.jpg'),
         j('B/img.jpg')] + pose + out('stem', False), None,
         lambda: two_files(j('out_stem'), ['img-2.json'])),
        ('infer x.jpg + x.png', 'infer', lambda: infer + [j('x.jpg'), j('x.png')] + pose
         + out('ext', False), None, lambda: two_files(j('out_ext'), ['x-2.json'])),
        ('infer truncated JPEG', 'infer', lambda: infer + [j('cut.jpg')] + pose + out('cut'),
         j('cut.jpg'), None),
        ('infer 0-byte image', 'infer', lambda: infer + [j('empty.jpg')] + pose + out('e'),
         j('empty.jpg'), None),
        ('infer text named .jpg', 'infer', lambda: infer + [j('text.jpg')] + pose + out('t'),
         j('text.jpg'), None),
        *[(f'infer --bbox-file {kind}', 'infer', (lambda kind=kind: infer + [
            j('000000000001.jpg')] + pose + out(kind) + ['--bbox-file',
                                                        j(f'boxes_{kind}.json')]),
           j(f'boxes_{kind}.json'), None)
          for kind in ('nan', 'negative', 'outside', 'unknown', 'truncated')],
        ('infer --bbox-file missing', 'infer', lambda: infer + [j('000000000001.jpg')] + pose
         + out('nobox') + ['--bbox-file', j('nowhere.json')], j('nowhere.json'), None),
        ('infer out-dir is a file', 'infer', lambda: infer + [j('x.jpg')] + pose
         + ['--out-dir', j('x.png')], j('x.png'), None),
        ('infer missing config', 'infer', lambda: infer + [j('x.jpg'), '--pose',
                                                           j('nowhere.py'), good],
         j('nowhere.py'), None),
        ('infer truncated checkpoint', 'infer', lambda: infer + [j('x.jpg'), '--pose', POSE_CFG,
                                                                 j('truncated.pth')] + out('tc'),
         j('truncated.pth'), None),
        ('infer overwritten checkpoint', 'infer', lambda: infer + [
            j('x.jpg'), '--pose', POSE_CFG, j('overwritten.pth')] + out('oc'),
         j('overwritten.pth'), None),
        ('infer SIGTERM during a video', 'sigterm', lambda: infer + [j('clip.avi')] + pose
         + out('video'), 'SIGTERM', None),
        ('test missing config', 'test', lambda: test + [j('nowhere.py'), good, '--work-dir',
                                                         work_dir], j('nowhere.py'), None),
        ('test misspelt --cfg-options', 'test', lambda: test + [
            POSE_CFG, good, '--work-dir', work_dir, '--cfg-options',
            'model.test_cfg.flip_tset=True'], 'model.test_cfg.flip_tset', None),
        ('test truncated checkpoint', 'test', lambda: test + [POSE_CFG, j('truncated.pth'),
                                                               '--work-dir', work_dir],
         j('truncated.pth'), None),
        ('test NaN checkpoint', 'test', lambda: test + [POSE_CFG, j('nan.pth'), '--work-dir',
                                                         work_dir], j('nan.pth'), None),
        ('train missing config', 'train', lambda: train + [j('nowhere.py'), '--work-dir',
                                                           work_dir], j('nowhere.py'), None),
        ('train misspelt --cfg-options', 'train', lambda: train + [
            POSE_CFG, '--work-dir', work_dir, '--cfg-options', 'train_cgf.max_epochs=1'],
         'train_cgf', None),
        ('train --resume overwritten checkpoint', 'train', lambda: train + [
            POSE_CFG, '--work-dir', work_dir, '--resume', j('overwritten.pth')],
         j('overwritten.pth'), None),
        ('train --resume garbage', 'train', lambda: train + [
            POSE_CFG, '--work-dir', work_dir, '--resume', j('garbage.pth')],
         j('garbage.pth'), None),
        ('export bf16 on onnxruntime over a good export', 'export', lambda: export + [
            POSE_CFG, good, '--out', earlier_export(w, 'exp_bf16'), '--backend', 'onnxruntime',
            '--precision', 'bf16'], 'bf16', None),
        ('export --calib 0 over a good export', 'export', lambda: export + [
            POSE_CFG, good, '--out', earlier_export(w, 'exp_calib0'), '--backend', 'openvino',
            '--precision', 'int8', '--calib', '0'], 'calib', None),
        ('export missing config', 'export', lambda: export + [
            j('nowhere.py'), good, '--out', earlier_export(w, 'exp_cfg')], j('nowhere.py'), None),
        ('export truncated checkpoint', 'export', lambda: export + [
            POSE_CFG, j('truncated.pth'), '--out', earlier_export(w, 'exp_trunc')],
         j('truncated.pth'), None),
        ('export another checkpoint over an OpenVINO IR', 'export', lambda: export + [
            POSE_CFG, j('other.pth'), '--out', reexport_dir(), '--backend', 'onnxruntime'],
         None, lambda: reexported(j('exp_again'), j('other.pth'))),
        ('infer truncated deploy.json', 'infer', lambda: infer + [
            j('x.jpg'), '--pose', cut_meta(), '--backend', 'onnxruntime'] + out('meta'),
         j('out_exp_meta', 'deploy.json'), None),
        ('convert garbage', 'convert', lambda: convert + [j('garbage.pth'), good, '--from',
                                                          'timm'], j('garbage.pth'), None),
        ('convert truncated', 'convert', lambda: convert + [j('truncated.pth'), good, '--from',
                                                            'timm'], j('truncated.pth'), None),
        ('convert wrong layout', 'convert', lambda: convert + [good, j('garbage.pth'), '--from',
                                                               'official-seg'], good, None),
    ]


def run_trial(name, kind, argv, expected, check, work):
    argv = [str(a) for a in argv()]
    protected = [p for p in (osp.join(work, d) for d in os.listdir(work))
                 if osp.basename(p).startswith('out_') or p.endswith('.pth')]
    before = snapshot(protected)
    work_dir = osp.join(work, 'work_dir')
    if kind == 'sigterm':
        proc = subprocess.Popen(argv, env=ENV, cwd=ROOT, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        part = osp.join(argv[-1], 'vis', '.clip.part.mp4')
        deadline = time.time() + 300
        while not osp.exists(part) and proc.poll() is None and time.time() < deadline:
            time.sleep(0.2)
        time.sleep(2)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=120)
        status = proc.returncode
    else:
        done = subprocess.run(argv, env=ENV, cwd=ROOT, capture_output=True, text=True,
                              timeout=900)
        status, err = done.returncode, done.stderr
    after = snapshot(protected)
    changed = [p for p in before if after.get(p) != before[p]]
    errors = [ln for ln in err.splitlines() if ln.startswith('error:')]
    if kind == 'sigterm':
        out = argv[-1]
        video = osp.join(out, 'vis', 'clip.mp4')
        frames = 0
        capture = cv2.VideoCapture(video)
        while capture.read()[0]:
            frames += 1
        try:
            with open(osp.join(out, 'predictions', 'clip.json')) as f:
                entries = json.load(f)
        except ValueError:
            entries = None
        if entries is None or frames == 0:
            return 'lost', f'json {"broken" if entries is None else "ok"}, {frames} frames'
        return ('clean' if status == 130 and frames == len({e['frame'] for e in entries})
                else 'unclear'), f'exit {status}, {frames} frames, {len(entries)} persons'
    lost = [p for p in changed if not p.endswith(('clip.mp4', 'clip.json'))]
    if lost or (kind == 'test' and osp.exists(work_dir) and status != 0):
        shutil.rmtree(work_dir, ignore_errors=True)
        return 'lost', f'changed {lost} or left {work_dir}'
    if expected is None:
        ok = status == 0 and check()
        return ('clean' if ok else 'silent'), f'exit {status}'
    if status == 0:
        return 'silent', 'exit 0'
    line = errors[0] if errors else err.strip().splitlines()[-1:] or ['']
    if status == 1 and len(errors) == 1 and expected in errors[0] and 'Traceback' not in err:
        return 'clean', errors[0][:160]
    return 'unclear', f'exit {status}, {len(errors)} error lines: {str(line)[:160]}'


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--work', default='/tmp/mmhrnet_trials', help='scratch folder')
    parser.add_argument('--only',
                        help='comma-separated kinds: infer,sigterm,test,train,convert,export')
    parser.add_argument('--match', help='only the trials whose name contains this')
    args = parser.parse_args()
    shutil.rmtree(args.work, ignore_errors=True)
    inputs = make_inputs(args.work)
    counts = dict(clean=0, unclear=0, silent=0, lost=0)
    for name, kind, argv, expected, check in trials(inputs):
        if (args.only and kind not in args.only.split(',')) or (
                args.match and args.match not in name):
            continue
        outcome, detail = run_trial(name, kind, argv, expected, check, args.work)
        counts[outcome] += 1
        print(f'{outcome:8s} {name}: {detail}', flush=True)
    print(', '.join(f'{n} {k}' for k, n in counts.items()))


if __name__ == '__main__':
    main()
