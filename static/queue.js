// The moderation queue's "Select all": ticks or unticks every reply on the page. Without this
// script the box stays hidden and each reply is ticked on its own.
(function () {
  'use strict';
  var all = document.getElementById('select-all');
  var form = all && all.form;
  if (!all || !form) return;
  all.parentNode.hidden = false;
  var boxes = function () { return form.querySelectorAll('input[name=ids]'); };
  all.addEventListener('change', function () {
    boxes().forEach(function (box) { box.checked = all.checked; });
  });
  form.addEventListener('change', function (event) {
    if (event.target.name !== 'ids') return;
    var list = Array.prototype.slice.call(boxes());
    all.checked = list.every(function (box) { return box.checked; });
    all.indeterminate = !all.checked && list.some(function (box) { return box.checked; });
  });
})();
