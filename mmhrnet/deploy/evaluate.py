"""The config's test metric for any model object: a torch model, a fast-path one or a
:class:`BackendModel`."""
import logging

from mmengine.logging import MMLogger


def evaluate(cfg, model, work_dir):
    """Run ``cfg``'s test dataloader and evaluator with ``model`` (mmengine's TestLoop).

    Args:
        cfg (Config): The config whose ``test_dataloader`` / ``test_evaluator`` to use.
        model (nn.Module): Anything with the ``test_step`` of an mmengine model.
        work_dir (str): Where the Runner writes its log.

    Returns:
        dict: The metrics (``coco/AP``, ``mIoU``, ``coco/bbox_mAP``, ...).
    """
    from mmengine.runner import Runner
    runner = Runner(
        model=model, work_dir=work_dir, test_dataloader=cfg.test_dataloader,
        test_cfg=cfg.get('test_cfg') or dict(type='TestLoop'),
        test_evaluator=cfg.test_evaluator, default_scope=cfg.default_scope,
        default_hooks=dict(logger=dict(type='LoggerHook', interval=1000)),
        env_cfg=dict(cudnn_benchmark=False), log_level='WARNING')
    try:
        return runner.test()
    finally:  # the Runner's log file handler stays open otherwise
        logger = MMLogger.get_current_instance()
        for handler in [h for h in logger.handlers if isinstance(h, logging.FileHandler)]:
            handler.close()
            logger.removeHandler(handler)
