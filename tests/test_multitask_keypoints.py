"""The RoI keypoint head on its own: crop geometry (rotated crops included), the mask channel's
alignment with the features, the flip test, the spatial-softmax loss, the measuring mask
sources."""
import math

import numpy as np
import pytest
import torch

import mmhrnet  # noqa: F401
from mmhrnet.multitask.keypoints import (COCO_FLIP_INDICES, RoIKeypointHead, SpatialSoftmaxLoss,
                                         _as_crops)

CODEC = dict(type='MSRAHeatmap', input_size=(144, 192), heatmap_size=(36, 48), sigma=2)
HEAD = dict(type='HeatmapHead', out_channels=17, deconv_out_channels=None,
            loss=dict(type='KeypointMSELoss', use_target_weight=True))


def make_head(**kwargs):
    torch.manual_seed(0)
    args = dict(in_channels=1, head=HEAD, codec=CODEC, stride=1)
    args.update(kwargs)
    return RoIKeypointHead(**args).eval()


def blob(size, x, y, sigma=1.5):
    """``(1, 1, H, W)`` Gaussian centred on pixel index ``(x, y)``."""
    ys, xs = torch.meshgrid(torch.arange(size[0]).float(), torch.arange(size[1]).float(),
                            indexing='ij')
    return torch.exp(-((xs - x) ** 2 + (ys - y) ** 2) / (2 * sigma ** 2))[None, None]


@pytest.mark.parametrize('angle', [0.0, 30.0, -75.0, 180.0])
def test_rotated_crop_maps_a_keypoint_where_roialign_samples_it(angle):
    """A feature blob at a keypoint peaks, in the RoI-aligned crop, at the heatmap position
    that ``_to_heatmap`` gives for that keypoint; ``_from_heatmap`` maps it back."""
    head = make_head()
    kpt = torch.tensor([[[70.0, 52.0]]])
    feats = [blob((128, 160), *kpt[0, 0].tolist())]
    crop = torch.tensor([[0, 80.0, 60.0, 72.0, 96.0, math.radians(angle)]])
    sampled = head.roi_inputs(feats, crop)[0, 0]
    v, u = np.unravel_index(int(sampled.argmax()), sampled.shape)
    scale = torch.tensor(head.codec.scale_factor)
    expected = head._to_heatmap(kpt, crop)[0, 0] / scale
    assert abs(u - expected[0].item()) <= 0.5 and abs(v - expected[1].item()) <= 0.5
    back = head._from_heatmap(head._to_heatmap(kpt, crop) / scale * torch.tensor(
        head.decoder.scale_factor), crop)
    torch.testing.assert_close(back, kpt, atol=1e-3, rtol=0)


def test_unrotated_crops_take_roialign_and_match_rotated_at_zero_angle():
    head = make_head()
    feats = [torch.randn(2, 1, 40, 50)]
    boxes = torch.tensor([[1, 5.0, 3.0, 40.0, 37.0]])
    crops = _as_crops(boxes)
    assert crops[0].tolist() == [1, 22.5, 20.0, 35.0, 34.0, 0.0]
    plain = head.roi_inputs(feats, crops)
    rotated = head.roi_align_rotated[0](feats[0], crops)
    torch.testing.assert_close(plain, rotated, atol=1e-5, rtol=0)


@pytest.mark.parametrize('angle', [0.0, 25.0])
def test_mask_channel_is_aligned_with_the_features(angle):
    """The same map given as a feature (stride 1) and as the person's mask gives the same
    channel: the mask is sampled on exactly the features' grid."""
    head = make_head(mask_channel=True)
    mask = (torch.rand(1, 64, 80) > 0.5).float()
    crop = torch.tensor([[0, 40.0, 30.0, 30.0, 40.0, math.radians(angle)]])
    x = head.roi_inputs([mask[None]], crop, masks=mask)
    assert x.shape[1] == 2
    torch.testing.assert_close(x[:, 0], x[:, 1])
    with pytest.raises(ValueError, match='mask'):
        head.roi_inputs([mask[None]], crop)


def test_flip_test_is_mirror_symmetric():
    """With the features' flip test, the mirrored crop gives the mirrored heatmaps with left and
    right swapped (exactly: the RoI bins mirror onto each other); without it, in general not."""
    flip = torch.tensor(COCO_FLIP_INDICES)
    feats = [torch.randn(1, 8, 40, 40)]
    crop = torch.tensor([[0, 20.0, 20.0, 24.0, 32.0, 0.0]])
    for flip_test in ('features', False):
        head = make_head(in_channels=8, coord_channels=True, test_cfg=dict(flip_test=flip_test),
                         roi_convs=dict(channels=8, num_convs=2, dilations=(1, 2)),
                         head=dict(HEAD, deconv_out_channels=(8, ), deconv_kernel_sizes=(4, )))
        mirrored_input = [feats[0].flip(-1)]
        mirrored_crop = torch.tensor([[0, 40 - 20.0, 20.0, 24.0, 32.0, 0.0]])
        a = head.predict_heatmaps(feats, crop)
        b = head.predict_heatmaps(mirrored_input, mirrored_crop)
        same = torch.allclose(a, b.flip(-1)[:, flip], atol=1e-5)
        assert same == bool(flip_test)



@pytest.mark.parametrize('angle', [0.0, 25.0])
def test_image_flip_test_crops_the_mirrored_input_where_the_mirrored_crop_lies(angle):
    """``flip_test='image'`` samples the mirrored input's features (and the person's mask,
    narrower than the padded input) at the mirrored crop: given features that are exactly the
    mirror image, it equals mirroring the crop's features; given other features, it differs."""
    feats = [torch.randn(1, 8, 40, 48)]
    mask = (torch.rand(1, 40, 44) > 0.5).float()  # unpadded: the input is 48 wide
    crop = torch.tensor([[0, 20.0, 22.0, 24.0, 30.0, math.radians(angle)]])
    kwargs = dict(in_channels=8, mask_channel=True, coord_channels=True,
                  roi_convs=dict(channels=8, num_convs=2, dilations=(1, 2)),
                  head=dict(HEAD, deconv_out_channels=(8, ), deconv_kernel_sizes=(4, )))
    features = make_head(test_cfg=dict(flip_test='features'), **kwargs)
    image = make_head(test_cfg=dict(flip_test=True), **kwargs)
    assert image.flips_image and make_head(test_cfg=dict(flip_test='image')).flips_image
    assert not features.flips_image
    expected = features.predict_heatmaps(feats, crop, mask)
    mirrored = image.predict_heatmaps(feats, crop, mask, mirror=([feats[0].flip(-1)], 48))
    torch.testing.assert_close(mirrored, expected, atol=1e-5, rtol=0)
    other = image.predict_heatmaps(feats, crop, mask, mirror=([torch.randn(1, 8, 40, 48)], 48))
    assert not torch.allclose(other, expected, atol=1e-3)
    with pytest.raises(ValueError, match='mirrored'):
        image.predict_heatmaps(feats, crop, mask)
    with pytest.raises(ValueError, match='flip_test'):
        make_head(test_cfg=dict(flip_test='both'))

def test_spatial_softmax_loss():
    loss = SpatialSoftmaxLoss()
    target = torch.zeros(2, 3, 6, 5)
    target[0, 0, 2, 3] = target[0, 1, 4, 1] = target[1, 2, 0, 0] = 1.0
    weights = torch.ones(2, 3)  # keypoints with an all-zero target count as unlabelled
    uniform = loss(torch.zeros(2, 3, 6, 5), target, weights)
    assert uniform.item() == pytest.approx(math.log(30), rel=1e-5)
    sharp = loss(target * 50, target, weights)
    assert sharp.item() < 1e-6
    wrong = loss(target.roll(1, -1) * 50, target, weights)
    assert wrong.item() > 10
    # a zero weight removes the keypoint
    assert loss(target.roll(1, -1) * 50, target, weights * torch.tensor([[0., 1, 1], [1, 1, 0]])
                ).item() == pytest.approx(wrong.item())
    head = make_head(head=dict(HEAD, loss=dict(type='mmhrnet.SpatialSoftmaxLoss')))
    assert head.spatial_softmax
    heat = head._activate(torch.randn(2, 17, 48, 36))
    torch.testing.assert_close(heat.flatten(2).sum(2), torch.ones(2, 17))


def test_rotation_jitter_rotates_training_crops_only():
    head = make_head(train_cfg=dict(rotate=40, rotate_prob=1.0))
    boxes = torch.tensor([[10.0, 10.0, 50.0, 90.0]] * 200)
    head.train()
    angles = head._jitter(boxes, 0)[:, 5] * 180 / math.pi
    assert angles.abs().max() <= 80 + 1e-4 and 30 < angles.std() < 50
    head.eval()
    assert (head._jitter(boxes, 0)[:, 5] == 0).all()


def test_measuring_mask_sources():
    """test_cfg.mask_source: 'box' fills each box, 'ground_truth' gives the mask of the
    best-overlapping person (empty below IoU 0.1); an unknown source is refused."""
    from mmdet.structures import DetDataSample
    from mmdet.structures.mask import BitmapMasks
    from mmengine.structures import InstanceData

    from mmhrnet.multitask.model import _reference_masks
    gt_masks = np.zeros((2, 32, 40), np.uint8)
    gt_masks[0, 2:10, 3:9] = 1
    gt_masks[1, 20:30, 25:38] = 1
    sample = DetDataSample(gt_instances=InstanceData(
        bboxes=torch.tensor([[3., 2., 9., 10.], [25., 20., 38., 30.]]),
        masks=BitmapMasks(gt_masks, 32, 40)))
    boxes = torch.tensor([[24., 19., 38., 31.], [0., 0., 2., 2.]])
    meta = dict(img_shape=(32, 40))
    masks = _reference_masks(boxes, meta, sample, 'ground_truth')
    assert torch.equal(masks[0], torch.from_numpy(gt_masks[1]).float())
    assert masks[1].sum() == 0  # overlaps no person
    filled = _reference_masks(boxes, meta, sample, 'box')
    assert filled[0].sum() == 14 * 12 and filled[0, 19, 24] == filled[0, 30, 37] == 1
    with pytest.raises(ValueError, match='mask_source'):
        make_head(test_cfg=dict(mask_source='oracle'))


@pytest.mark.parametrize('unbiased', [False, True])
def test_decoding_is_the_codecs_per_person(unbiased):
    """The head decodes all persons at once (MSRA codecs vectorised): mmpose's codec one person
    at a time gives the same keypoints and scores, and a codec of another kind is decoded per
    person by the codec itself."""
    head = make_head(decoder=dict(CODEC, unbiased=unbiased))
    heatmaps = np.random.default_rng(0).random((4, 17, 48, 36)).astype(np.float32) ** 8
    keypoints, scores = head._decode(heatmaps)
    assert keypoints.shape == (4, 17, 2) and scores.shape == (4, 17)
    for n, maps in enumerate(heatmaps):
        ref_keypoints, ref_scores = head.decoder.decode(maps)
        np.testing.assert_allclose(keypoints[n], ref_keypoints[0], rtol=1e-5, atol=1e-4)
        np.testing.assert_array_equal(scores[n], ref_scores[0])

    class OtherCodec:  # any codec that is not MSRAHeatmap itself
        calls = 0

        def decode(self, maps):
            OtherCodec.calls += 1
            return maps[None, :, :2, 0], maps[None, :, 0, 0]
    head.decoder = OtherCodec()
    assert head._decode(heatmaps)[0].shape == (4, 17, 2) and OtherCodec.calls == 4
