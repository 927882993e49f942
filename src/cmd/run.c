// SPDX-License-Identifier: GPL-2.0-only
/* qlite run [FILE.conf] [--option value]...: build the VM and run it. */
#include "qlite/config.h"
#include "qlite/config_check.h"
#include "qlite/vm.h"
#include "cmd.h"

int cmd_parse_spec(struct vm_spec *spec, int argc, char **argv)
{
	int ret;

	vm_spec_init(spec);
	ret = config_parse_args(spec, argc, argv, stderr);
	if (ret < 0)
		return ret;
	return config_validate(spec, stderr);
}

int cmd_run(int argc, char **argv)
{
	struct vm_spec spec;
	struct vm vm;
	int status;

	if (cmd_wants_help(argc, argv, "run"))
		return 0;
	if (cmd_parse_spec(&spec, argc, argv) < 0) {
		vm_spec_free(&spec);
		return EXIT_CONFIG;
	}
	if (vm_create(&vm, &spec) < 0) {
		vm_destroy(&vm);
		vm_spec_free(&spec);
		return 1;
	}
	status = vm_run(&vm);
	vm_destroy(&vm);
	vm_spec_free(&spec);
	return status;
}
